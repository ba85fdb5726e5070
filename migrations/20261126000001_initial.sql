-- shoprecs initial schema.
--
-- Conventions: every primary key starts with shop_id (tenant in every key, so no query ever
-- needs to span shops and tables can later be distributed by shop_id). Shopify ids are BIGINT,
-- never floating point. No names, e-mails, phone numbers or addresses are stored: Shopify ids
-- are enough to recommend.

create table shop (
    shop_id          bigint generated always as identity primary key,
    domain           text not null unique,
    installed        boolean not null default true,
    uninstalled_at   timestamptz,
    -- Offline Admin API token, encrypted at rest (AES-256-GCM); key id allows rotation.
    access_token_ciphertext bytea,
    access_token_key_id     text,
    scopes           text,
    settings         jsonb not null default '{}'::jsonb,
    created_at       timestamptz not null default now()
);

-- Every verified webhook, durably, before it is acknowledged. The body is kept only until the
-- event is applied (it carries personal data Shopify sends us but we do not keep).
create table webhook_inbox (
    shop_id        bigint not null references shop (shop_id) on delete cascade,
    inbox_id       bigint generated always as identity,
    dedupe_key     text not null,
    topic          text not null,
    webhook_id     text,
    api_version    text,
    triggered_at   timestamptz,
    received_at    timestamptz not null default now(),
    body           bytea,
    status         text not null default 'pending'
                   check (status in ('pending', 'applied', 'ignored', 'failed')),
    applied_at     timestamptz,
    error          text,
    primary key (shop_id, inbox_id),
    unique (shop_id, dedupe_key)
);
create index webhook_inbox_pending on webhook_inbox (inbox_id) where status = 'pending';

create table product (
    shop_id        bigint not null references shop (shop_id) on delete cascade,
    product_id     bigint not null,
    title          text not null default '',
    handle         text not null default '',
    product_type   text not null default '',
    vendor         text not null default '',
    tags           text[] not null default '{}',
    status         text not null default 'active',
    published_at   timestamptz,
    image_url      text,
    -- Shopify's updated_at of the state we hold (or the delete time); older states are ignored.
    updated_at     timestamptz not null,
    deleted        boolean not null default false,
    primary key (shop_id, product_id)
);

create table variant (
    shop_id              bigint not null references shop (shop_id) on delete cascade,
    variant_id           bigint not null,
    product_id           bigint not null,
    title                text not null default '',
    sku                  text not null default '',
    price                numeric(20, 4) not null default 0,
    compare_at_price     numeric(20, 4),
    position             integer not null default 1,
    inventory_policy     text not null default 'deny',
    inventory_management text,
    inventory_quantity   bigint,
    primary key (shop_id, variant_id)
);
create index variant_product on variant (shop_id, product_id);
create index variant_sku on variant (shop_id, sku) where sku <> '';

-- Ids and order statistics only.
create table customer (
    shop_id          bigint not null references shop (shop_id) on delete cascade,
    customer_id      bigint not null,
    state            text,
    accepts_email_marketing boolean not null default false,
    accepts_sms_marketing   boolean not null default false,
    -- Order statistics, maintained from the orders we hold (test and cancelled orders excluded).
    orders_count     integer not null default 0,
    total_spent      numeric(20, 4) not null default 0,
    first_order_at   timestamptz,
    last_order_at    timestamptz,
    created_at       timestamptz,
    updated_at       timestamptz not null,
    deleted          boolean not null default false,
    primary key (shop_id, customer_id)
);

create table "order" (
    shop_id            bigint not null references shop (shop_id) on delete cascade,
    order_id           bigint not null,
    name               text not null default '',
    customer_id        bigint,
    created_at         timestamptz not null,
    processed_at       timestamptz,
    updated_at         timestamptz not null,
    cancelled_at       timestamptz,
    financial_status   text,
    test               boolean not null default false,
    currency           text not null default '',
    total_price        numeric(20, 4) not null default 0,
    current_total_price numeric(20, 4),
    source_name        text,
    cart_token         text,
    checkout_token     text,
    primary key (shop_id, order_id)
);
create index order_customer on "order" (shop_id, customer_id) where customer_id is not null;
create index order_checkout_token on "order" (shop_id, checkout_token) where checkout_token is not null;

create table order_line (
    shop_id            bigint not null,
    order_id           bigint not null,
    line_id            bigint not null,
    product_id         bigint,
    variant_id         bigint,
    sku                text not null default '',
    quantity           integer not null,
    -- What the buyer kept according to the order payload (current_quantity when present).
    current_quantity   integer not null,
    price              numeric(20, 4) not null default 0,
    gift_card          boolean not null default false,
    product_exists     boolean not null default true,
    primary key (shop_id, order_id, line_id),
    foreign key (shop_id, order_id) references "order" (shop_id, order_id) on delete cascade
);
create index order_line_product on order_line (shop_id, product_id) where product_id is not null;

-- Refunded quantities per line, from refunds/create and from orders' embedded refunds[].
-- Keyed by the refund line id so the same refund seen twice counts once.
create table refund_line (
    shop_id          bigint not null references shop (shop_id) on delete cascade,
    refund_line_id   bigint not null,
    refund_id        bigint not null,
    order_id         bigint not null,
    line_id          bigint not null,
    quantity         integer not null,
    created_at       timestamptz,
    primary key (shop_id, refund_line_id)
);
create index refund_line_order on refund_line (shop_id, order_id);

-- Net quantity: the least of what the order payload says was kept and the original quantity
-- minus every refund seen so far, so that refunds and order updates converge in any order.
create view order_line_net as
select l.shop_id, l.order_id, l.line_id, l.product_id, l.variant_id, l.sku, l.price, l.gift_card,
       greatest(0, least(l.current_quantity,
                         l.quantity - coalesce((select sum(r.quantity)
                                                  from refund_line r
                                                 where r.shop_id = l.shop_id
                                                   and r.order_id = l.order_id
                                                   and r.line_id = l.line_id), 0)))::integer
           as net_quantity
  from order_line l;

create table cart (
    shop_id      bigint not null references shop (shop_id) on delete cascade,
    cart_token   text not null,
    updated_at   timestamptz not null,
    created_at   timestamptz,
    lines        jsonb not null default '[]'::jsonb,
    primary key (shop_id, cart_token)
);

create table checkout (
    shop_id        bigint not null references shop (shop_id) on delete cascade,
    checkout_id    bigint not null,
    token          text,
    cart_token     text,
    customer_id    bigint,
    -- Whether the buyer left an e-mail (the address itself is not stored).
    has_email      boolean not null default false,
    created_at     timestamptz,
    updated_at     timestamptz not null,
    completed_at   timestamptz,
    currency       text,
    total_price    numeric(20, 4),
    lines          jsonb not null default '[]'::jsonb,
    primary key (shop_id, checkout_id)
);
create index checkout_customer on checkout (shop_id, customer_id) where customer_id is not null;

-- Storefront browse events from the web pixel. Hints only: never override webhook data.
create table browse_event (
    shop_id        bigint not null references shop (shop_id) on delete cascade,
    event_id       text not null,
    name           text not null,
    client_id      text not null,
    customer_id    bigint,
    product_id     bigint,
    variant_id     bigint,
    quantity       integer,
    search_query   text,
    collection_id  bigint,
    checkout_token text,
    occurred_at    timestamptz not null,
    received_at    timestamptz not null default now(),
    primary key (shop_id, event_id)
);
create index browse_event_customer on browse_event (shop_id, customer_id) where customer_id is not null;
create index browse_event_client on browse_event (shop_id, client_id, occurred_at);
create index browse_event_time on browse_event (shop_id, occurred_at);

-- customers/data_request: recorded so the operator can answer it (shoprecs export-customer).
create table privacy_request (
    shop_id          bigint not null references shop (shop_id) on delete cascade,
    request_id       bigint generated always as identity,
    kind             text not null,
    customer_id      bigint,
    shopify_request_id bigint,
    orders_requested bigint[] not null default '{}',
    received_at      timestamptz not null default now(),
    primary key (shop_id, request_id)
);

-- Customers redacted by customers/redact, as a salted hash of the id so no row names them,
-- yet a late retry of an old order webhook cannot re-link them.
create table redacted_customer (
    shop_id        bigint not null references shop (shop_id) on delete cascade,
    customer_hash  bytea not null,
    redacted_at    timestamptz not null default now(),
    primary key (shop_id, customer_hash)
);
