-- Backfill through Shopify's bulk operations (src/backfill): one job per run and shop, its
-- progress, and the JSONL result lines staged durably so a restart resumes where it stopped.

create table backfill_job (
    shop_id          bigint not null references shop (shop_id) on delete cascade,
    job_id           bigint generated always as identity,
    -- queued → running → applying → done | failed
    status           text not null default 'queued'
                     check (status in ('queued', 'running', 'applying', 'done', 'failed')),
    -- What a running job is on: products, orders (bulk query + download), then applying.
    -- Attempts: failed steps in a row (reset by progress); the job fails after too many.
    attempts         integer not null default 0,
    phase            text not null default 'products'
                     check (phase in ('products', 'orders', 'applying', 'done')),
    -- Orders created on or after this day are fetched.
    orders_since     date not null,
    -- The phase's bulk operation (gid://shopify/BulkOperation/N), as Shopify last reported it.
    operation_id     text,
    operation_status text,
    operation_error  text,
    -- The fetch phase's result: objects Shopify counted (known once completed), lines and
    -- bytes of it staged (a resumed download asks for the rest with Range).
    object_count     bigint,
    objects_staged   bigint not null default 0,
    bytes_staged     bigint not null default 0,
    -- The applying phase: top-level objects (products, orders) handed to the applier, of all.
    roots_applied    bigint not null default 0,
    roots_total      bigint not null default 0,
    last_error       text,
    created_at       timestamptz not null default now(),
    started_at       timestamptz,
    phase_started_at timestamptz,
    updated_at       timestamptz not null default now(),
    finished_at      timestamptz,
    primary key (shop_id, job_id)
);

-- At most one unfinished job per shop.
create unique index backfill_job_active on backfill_job (shop_id)
    where status in ('queued', 'running', 'applying');

-- One line of a bulk operation's JSONL result, as downloaded. Children (`__parentId`) are
-- joined to their parent after staging, whatever order the file had them in.
create table backfill_line (
    shop_id    bigint not null references shop (shop_id) on delete cascade,
    job_id     bigint not null,
    kind       text not null check (kind in ('products', 'orders')),
    line_no    bigint not null,
    gid        text,
    parent_gid text,
    body       jsonb not null,
    primary key (shop_id, job_id, kind, line_no),
    foreign key (shop_id, job_id) references backfill_job (shop_id, job_id) on delete cascade
);

create index backfill_line_parent on backfill_line (shop_id, job_id, kind, parent_gid);
