-- Abandoned checkouts and their bundle offers (issue #5).
--
-- A checkout with a known customer or e-mail that saw no change and no order for a while is
-- recorded here once, by the checkout sweep, with a bundle offer (its items plus the engine's
-- best complementary product and a suggested discount). A later order with the same checkout
-- or cart token marks it recovered; an open one expires after a configurable number of days.
-- Checkouts come from checkouts/create|update webhooks (table `checkout`) or, when no webhook
-- arrived, from the pixel's `checkout_started` event of a logged-in customer (`browse_event`).

create table abandoned_checkout (
    shop_id              bigint not null references shop (shop_id) on delete cascade,
    checkout_token       text not null,
    -- Surrogate, increasing: the API's seek cursor.
    abandoned_id         bigint generated always as identity,
    source               text not null check (source in ('checkout', 'pixel')),
    checkout_id          bigint,
    cart_token           text,
    customer_id          bigint,
    product_ids          bigint[] not null default '{}',
    total_price          numeric(20, 4),
    currency             text,
    -- When it became abandoned: its last change plus the configured delay.
    abandoned_at         timestamptz not null,
    state                text not null default 'open'
                         check (state in ('open', 'recovered', 'expired')),
    recovered_at         timestamptz,
    recovered_order_id   bigint,
    expired_at           timestamptz,
    -- The bundle offer: the checkout's items plus the complement.
    offer_product_ids    bigint[] not null default '{}',
    complement_product_id bigint,
    -- The engine's reason, as a sentence and as its structured evidence.
    complement_reason    text,
    complement_evidence  jsonb,
    discount_percent     integer not null check (discount_percent between 0 and 100),
    -- Filled once the discount exists in Shopify (Admin API issue).
    discount_code        text,
    offer_created_at     timestamptz not null,
    primary key (shop_id, checkout_token),
    unique (shop_id, abandoned_id)
);
create index abandoned_checkout_state on abandoned_checkout (shop_id, state, abandoned_id);
create index abandoned_checkout_customer on abandoned_checkout (shop_id, customer_id)
    where customer_id is not null;

-- Recovery looks orders up by cart token too.
create index order_cart_token on "order" (shop_id, cart_token) where cart_token is not null;
-- Pixel-only checkouts are found by token.
create index browse_event_checkout on browse_event (shop_id, checkout_token)
    where checkout_token is not null;
create index checkout_token on checkout (shop_id, token) where token is not null;
