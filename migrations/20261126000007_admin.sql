-- Access to the merchant admin dashboard without Shopify (self-hosted, the demo): per-shop
-- admin tokens (`shoprecs admin-token --shop S`) and the sessions a login with one opens.
-- Embedded (inside Shopify admin) access uses Shopify session tokens and stores nothing here.

-- Admin tokens are random 256-bit secrets shown once; only their SHA-256 is stored.
create table admin_token (
    shop_id       bigint not null references shop (shop_id) on delete cascade,
    token_id      bigint generated always as identity,
    token_hash    bytea not null,
    -- First characters of the token, so a merchant can tell tokens apart.
    token_prefix  text not null,
    label         text not null default '',
    created_at    timestamptz not null default now(),
    last_used_at  timestamptz,
    revoked_at    timestamptz,
    primary key (shop_id, token_id)
);

-- A logged-in browser. The cookie holds `<shop_id>.<random secret>`; only the secret's SHA-256
-- is stored. `csrf_token` is the synchronizer token every form of the session must carry.
create table admin_session (
    shop_id       bigint not null references shop (shop_id) on delete cascade,
    session_hash  bytea not null,
    token_id      bigint not null,
    csrf_token    text not null,
    created_at    timestamptz not null,
    expires_at    timestamptz not null,
    primary key (shop_id, session_hash),
    -- Revoking (deleting) a token ends its sessions.
    foreign key (shop_id, token_id) references admin_token (shop_id, token_id) on delete cascade
);

create index admin_session_expiry on admin_session (shop_id, expires_at);
