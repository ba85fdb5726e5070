-- Webhook bodies (JSON, ~9 KB for an order) are compressed when stored. lz4 compresses and
-- decompresses several times faster than Postgres' default pglz, which matters on the ingest
-- path (every webhook is written, then read once by the applier). Servers built without lz4
-- keep pglz.
do $$
begin
    alter table webhook_inbox alter column body set compression lz4;
exception when feature_not_supported then
    raise notice 'lz4 is not available in this Postgres build: webhook bodies stay pglz-compressed';
end
$$;
