-- Indexes for the merchant dashboard, so its pages stay fast on a shop with a million orders.

-- Orders per day.
create index order_created on "order" (shop_id, created_at);
-- Last event per webhook topic, and failed webhooks.
create index webhook_inbox_topic on webhook_inbox (shop_id, topic, received_at desc);
create index webhook_inbox_failed on webhook_inbox (shop_id, received_at desc) where status = 'failed';
