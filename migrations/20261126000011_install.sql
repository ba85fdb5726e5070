-- Installing the app on a shop.
--
-- oauth_state_used: authorization-code grant state nonces already spent (SHA-256 of the nonce),
-- so that a callback cannot be replayed. The nonce itself travels in a signed, short-lived
-- cookie; a row exists only after Shopify's signed callback proved the shop, and is purged once
-- the nonce has expired anyway.
create table oauth_state_used (
    shop_id    bigint not null references shop (shop_id) on delete cascade,
    nonce_hash bytea not null,
    expires_at timestamptz not null,
    primary key (shop_id, nonce_hash)
);

-- The post-install steps (webhook subscriptions, web pixel, backfill request): when each last
-- ran, how it ended (ok | failed | skipped) and what it said, for the dashboard's health page.
create table install_step (
    shop_id      bigint not null references shop (shop_id) on delete cascade,
    step         text not null,
    status       text not null,
    message      text not null default '',
    attempted_at timestamptz not null,
    succeeded_at timestamptz,
    primary key (shop_id, step)
);
