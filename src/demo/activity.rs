//! Widget activity for the demo shop's last 60 days, so the dashboard's overview has
//! impressions, clicks and attributed orders to show: 70% of customers see a widget a few hours
//! before ordering and 18% click one of the products they then buy, and anonymous shoppers see widgets and
//! click about one time in 25.

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use crate::store::ShopId;

pub async fn seed_widget_activity(
    pool: &PgPool,
    shop: ShopId,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        r#"insert into widget_event (shop_id, kind, token, placement, list, product_id, position,
                                     customer_id, occurred_at)
           select o.shop_id, k.kind, 'demo-' || o.order_id,
                  (array['product', 'product', 'cart', 'home'])[1 + o.order_id % 4],
                  (array['bought_together', 'also_viewed', 'cart', 'for_you'])[1 + o.order_id % 4],
                  case when k.kind = 'click' then l.product_id end,
                  case when k.kind = 'click' then 1 + (o.order_id % 4)::int end,
                  o.customer_id,
                  o.created_at - (1 + o.order_id % 20) * interval '1 hour'
                                + case when k.kind = 'click' then interval '20 seconds' else interval '0' end
             from "order" o
             cross join lateral (select product_id from order_line
                                  where shop_id = o.shop_id and order_id = o.order_id and product_id is not null
                                  order by line_id limit 1) l
             cross join (values ('impression'), ('click')) as k(kind)
            where o.shop_id = $1 and o.customer_id is not null and not o.test
              and o.created_at > $2::timestamptz - interval '60 days'
              and ((k.kind = 'impression' and o.order_id % 100 < 70) or (k.kind = 'click' and o.order_id % 100 < 18))
           on conflict do nothing"#,
        shop.0,
        now
    )
    .execute(pool)
    .await?;
    sqlx::query!(
        r#"insert into widget_event (shop_id, kind, token, placement, list, product_id, position,
                                     client_id, occurred_at)
           select $1, case when g % 25 = 0 then 'click' else 'impression' end, 'demo-anon-' || g,
                  (array['product', 'product', 'cart', 'home'])[1 + g % 4],
                  (array['bought_together', 'also_viewed', 'cart', 'bestsellers'])[1 + g % 4],
                  case when g % 25 = 0 then (select product_id from product
                                              where shop_id = $1 and not deleted
                                              order by product_id offset (g % 300) limit 1) end,
                  case when g % 25 = 0 then 1 + g % 4 end,
                  'demo-client-' || (g % 3000),
                  $2::timestamptz - (g % 60) * interval '1 day' - (g % 1440) * interval '1 minute'
             from generate_series(1, 12000) as g
           on conflict do nothing"#,
        shop.0,
        now
    )
    .execute(pool)
    .await?;
    Ok(())
}
