-- Writing back to Shopify (issue #7).
--
-- Segment tags: what shoprecs last set as a customer's tags in Shopify, as the segment and VIP
-- flag they stand for. The sync sends only customers whose current segment differs from this,
-- so it is naturally batched and idempotent, and a customer's row goes with the customer.
create table customer_tag_sync (
    shop_id      bigint not null,
    customer_id  bigint not null,
    segment      text,
    vip          boolean not null default false,
    synced_at    timestamptz not null,
    -- Shopify's userError for this customer, if the last attempt had one.
    error        text,
    primary key (shop_id, customer_id),
    foreign key (shop_id, customer_id) references customer (shop_id, customer_id) on delete cascade
);

-- Bundle discount codes: an offer whose shop issues codes waits in 'pending' (its
-- checkout.abandoned event not yet sent) until the code exists in Shopify; the code itself is
-- decided when the offer is made, so a retried creation can never make a second one.
alter table abandoned_checkout
    add column discount_state    text not null default 'none'
                                 check (discount_state in ('none', 'pending', 'created', 'failed')),
    add column discount_id       text,
    add column discount_ends_at  timestamptz,
    add column discount_attempts integer not null default 0,
    add column discount_error    text;
create index abandoned_checkout_discount_pending on abandoned_checkout (shop_id)
    where discount_state = 'pending';
