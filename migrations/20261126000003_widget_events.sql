-- Widget impressions and clicks, reported by the storefront script through the (signed) app
-- proxy. Orders are attributed to a widget at query time (see store/attribution.rs).
create table widget_event (
    shop_id       bigint not null references shop (shop_id) on delete cascade,
    event_id      bigint generated always as identity,
    kind          text not null check (kind in ('impression', 'click')),
    -- The recommendation token of the rendered list (signed by us).
    token         text not null,
    placement     text not null,
    list          text not null,
    product_id    bigint,
    position      integer,
    client_id     text,
    customer_id   bigint,
    occurred_at   timestamptz not null default now(),
    primary key (shop_id, event_id)
);
-- One impression per rendered list; one click per list and product.
create unique index widget_event_once on widget_event (shop_id, token, kind, coalesce(product_id, 0));
create index widget_event_time on widget_event (shop_id, occurred_at);
create index widget_event_clicks on widget_event (shop_id, product_id, occurred_at) where kind = 'click';
create index widget_event_customer on widget_event (shop_id, customer_id) where customer_id is not null;
