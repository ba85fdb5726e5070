-- Lifecycle segments, their history, the values each shop's segments use, and engagement
-- scores over time.

alter table customer
    add column segment        text,
    add column segment_since  timestamptz,
    add column vip            boolean not null default false,
    -- Median gap between the customer's consecutive orders, in days (maintained with the
    -- order statistics).
    add column median_gap_days double precision,
    -- Browsing activity (sum of event weights) decayed to activity_at; see src/segments.
    add column activity       double precision not null default 0,
    add column activity_at    timestamptz,
    add column last_seen_at   timestamptz;
create index customer_segment on customer (shop_id, segment, customer_id) where not deleted;

-- Every change of segment or VIP flag, dated when it happened.
create table segment_change (
    shop_id       bigint not null references shop (shop_id) on delete cascade,
    change_id     bigint generated always as identity,
    customer_id   bigint not null,
    from_segment  text,
    to_segment    text not null,
    vip           boolean not null default false,
    changed_at    timestamptz not null,
    recorded_at   timestamptz not null default now(),
    primary key (shop_id, change_id)
);
create index segment_change_customer on segment_change (shop_id, customer_id, changed_at);
create index segment_change_time on segment_change (shop_id, changed_at);

-- The values a shop's segments use: learned from its orders (see src/segments/policy.rs)
-- with the merchant's overrides applied; recomputed daily.
create table segment_policy (
    shop_id      bigint primary key references shop (shop_id) on delete cascade,
    policy       jsonb not null,
    computed_at  timestamptz not null
);

-- One engagement score per customer per day.
create table engagement_snapshot (
    shop_id      bigint not null references shop (shop_id) on delete cascade,
    customer_id  bigint not null,
    day          date not null,
    score        real not null,
    segment      text not null,
    primary key (shop_id, customer_id, day)
);

-- The shop's daily summary per segment: size, mean and median score, and a histogram of
-- scores in ten buckets of ten points.
create table engagement_daily (
    shop_id      bigint not null references shop (shop_id) on delete cascade,
    day          date not null,
    segment      text not null,
    customers    integer not null,
    vip          integer not null,
    mean_score   real not null,
    median_score real not null,
    histogram    integer[] not null,
    primary key (shop_id, day, segment)
);
