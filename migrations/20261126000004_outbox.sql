-- Outgoing events for e-mail / SMS flows (segment changes, abandoned and recovered checkouts).
--
-- An event is written to the outbox in the same transaction as the change it reports, one row
-- per endpoint that wants it, so nothing is lost when the receiver or shoprecs is down. The
-- delivery worker posts due rows and retries with backoff; `event_id` is stable across
-- retries so receivers can drop duplicates (delivery is at least once).

create table event_endpoint (
    shop_id      bigint not null references shop (shop_id) on delete cascade,
    endpoint_id  bigint generated always as identity,
    url          text not null,
    -- Topics this endpoint receives; empty means every topic.
    topics       text[] not null default '{}',
    active       boolean not null default true,
    created_at   timestamptz not null default now(),
    primary key (shop_id, endpoint_id),
    unique (shop_id, url)
);

create table event_outbox (
    shop_id          bigint not null references shop (shop_id) on delete cascade,
    outbox_id        bigint generated always as identity,
    event_id         uuid not null,
    endpoint_id      bigint not null,
    topic            text not null,
    payload          jsonb not null,
    created_at       timestamptz not null,
    attempts         integer not null default 0,
    next_attempt_at  timestamptz not null,
    -- Set while a worker is posting the row; an expired lease (a crash) makes it due again.
    leased_until     timestamptz,
    delivered_at     timestamptz,
    -- Gave up after the configured number of attempts (kept, visible, retryable by hand).
    dead             boolean not null default false,
    last_error       text,
    primary key (shop_id, outbox_id),
    unique (shop_id, event_id, endpoint_id),
    foreign key (shop_id, endpoint_id) references event_endpoint (shop_id, endpoint_id) on delete cascade
);
create index event_outbox_due on event_outbox (next_attempt_at) where delivered_at is null and not dead;
