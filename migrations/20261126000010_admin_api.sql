-- Connecting to the Shopify Admin API: when the shop's token was stored, and when Shopify last
-- refused it (the shop must then re-authorize; calls stop until it does).

alter table shop
    add column token_saved_at     timestamptz,
    add column reauth_required_at timestamptz;
