-- Merchant rules (pin / exclude, per product or global) and per-shop API keys.

create table rule (
    shop_id             bigint not null references shop (shop_id) on delete cascade,
    rule_id             bigint generated always as identity,
    kind                text not null check (kind in ('pin', 'exclude')),
    -- The product pinned or excluded.
    product_id          bigint not null,
    -- The product page the rule applies to; null = every list of the shop.
    context_product_id  bigint,
    -- Order among pins of the same context (lower first).
    position            integer not null default 0,
    created_at          timestamptz not null default now(),
    primary key (shop_id, rule_id),
    unique nulls not distinct (shop_id, kind, product_id, context_product_id)
);

-- API keys are random 256-bit secrets shown once; only their SHA-256 is stored.
create table api_key (
    shop_id       bigint not null references shop (shop_id) on delete cascade,
    key_id        bigint generated always as identity,
    key_hash      bytea not null unique,
    -- First characters of the key, so a merchant can tell keys apart.
    key_prefix    text not null,
    label         text not null default '',
    created_at    timestamptz not null default now(),
    last_used_at  timestamptz,
    revoked_at    timestamptz,
    primary key (shop_id, key_id)
);

-- Gift cards are never recommended and never count as purchases. Shopify marks them on order
-- lines; the products CSV export marks the product (kept here for imports).
alter table product add column gift_card boolean not null default false;
