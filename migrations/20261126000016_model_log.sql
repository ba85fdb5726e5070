-- What changed the in-memory models, so that every server applies what any server applied
-- (DESIGN §7: replicas keep their models current by tailing this log). Each applied batch of
-- webhooks, rule change and batch of pixel events writes one row in its own transaction; every
-- server reads the rows after the last it settled (see `store::model_log` for how a sequence
-- number is settled although rows commit out of order). Rows hold ids only (shops, orders,
-- products, customers, pixel event ids) and are deleted after `replicas.log_retention_minutes`.
create table model_log (
    seq        bigint generated always as identity primary key,
    -- The server (or command) that wrote the row; that server applied it already.
    origin     uuid not null,
    change     jsonb not null,
    written_at timestamptz not null default clock_timestamp()
);

create index model_log_written_at on model_log (written_at);
