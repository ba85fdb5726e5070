-- Daily totals behind the dashboard's overview, so a page reads a few hundred rows instead of
-- every order and widget event of the period. A day's row in daily_orders says the day was
-- computed (also with zero orders); days that may still change are computed again.

create table daily_orders (
    shop_id      bigint not null references shop (shop_id) on delete cascade,
    day          date not null,
    orders       integer not null,
    revenue      numeric(20, 4) not null,
    computed_at  timestamptz not null,
    primary key (shop_id, day)
);

create table daily_widgets (
    shop_id            bigint not null references shop (shop_id) on delete cascade,
    day                date not null,
    placement          text not null,
    list               text not null,
    impressions        bigint not null,
    clicks             bigint not null,
    attributed_orders  bigint not null,
    attributed_revenue numeric(20, 4) not null,
    primary key (shop_id, day, placement, list)
);

-- Units kept per product per day, for the bestsellers page's sparklines.
create table daily_products (
    shop_id     bigint not null references shop (shop_id) on delete cascade,
    day         date not null,
    product_id  bigint not null,
    units       bigint not null,
    primary key (shop_id, day, product_id)
);
create index daily_products_product on daily_products (shop_id, product_id, day);

-- Segment sizes (and VIPs) from the index alone.
create index customer_segment_vip on customer (shop_id, segment, vip) where not deleted and segment is not null;
