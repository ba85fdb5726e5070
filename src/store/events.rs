//! Storefront browse events from the web pixel.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use super::ShopId;

/// One validated pixel event.
#[derive(Debug, Clone, PartialEq)]
pub struct BrowseEventRow {
    pub event_id: String,
    pub name: String,
    pub client_id: String,
    pub customer_id: Option<i64>,
    pub product_id: Option<i64>,
    pub variant_id: Option<i64>,
    pub collection_id: Option<i64>,
    pub quantity: Option<i32>,
    pub search_query: Option<String>,
    pub checkout_token: Option<String>,
    pub occurred_at: DateTime<Utc>,
}

/// Stores the events; an event id already stored is skipped. Returns the ids that were new.
pub async fn insert(
    conn: &mut PgConnection,
    shop: ShopId,
    events: &[BrowseEventRow],
) -> sqlx::Result<Vec<String>> {
    if events.is_empty() {
        return Ok(Vec::new());
    }
    let col = |f: fn(&BrowseEventRow) -> String| events.iter().map(f).collect::<Vec<_>>();
    let ids = col(|e| e.event_id.clone());
    let names = col(|e| e.name.clone());
    let clients = col(|e| e.client_id.clone());
    let customers: Vec<Option<i64>> = events.iter().map(|e| e.customer_id).collect();
    let products: Vec<Option<i64>> = events.iter().map(|e| e.product_id).collect();
    let variants: Vec<Option<i64>> = events.iter().map(|e| e.variant_id).collect();
    let collections: Vec<Option<i64>> = events.iter().map(|e| e.collection_id).collect();
    let quantities: Vec<Option<i32>> = events.iter().map(|e| e.quantity).collect();
    let queries: Vec<Option<String>> = events.iter().map(|e| e.search_query.clone()).collect();
    let tokens: Vec<Option<String>> = events.iter().map(|e| e.checkout_token.clone()).collect();
    let times: Vec<DateTime<Utc>> = events.iter().map(|e| e.occurred_at).collect();
    sqlx::query_scalar!(
        "insert into browse_event (shop_id, event_id, name, client_id, customer_id, product_id,
                                   variant_id, collection_id, quantity, search_query, checkout_token,
                                   occurred_at)
         select $1, * from unnest($2::text[], $3::text[], $4::text[], $5::int8[], $6::int8[], $7::int8[],
                                  $8::int8[], $9::int4[], $10::text[], $11::text[], $12::timestamptz[])
         on conflict do nothing
         returning event_id",
        shop.0,
        &ids,
        &names,
        &clients,
        &customers as &[Option<i64>],
        &products as &[Option<i64>],
        &variants as &[Option<i64>],
        &collections as &[Option<i64>],
        &quantities as &[Option<i32>],
        &queries as &[Option<String>],
        &tokens as &[Option<String>],
        &times
    )
    .fetch_all(&mut *conn)
    .await
}

/// Removes every browse event tied to the customer (privacy redaction), including the
/// anonymous browsing of the devices they were seen logged in on.
pub async fn delete_for_customer(
    conn: &mut PgConnection,
    shop: ShopId,
    customer_id: i64,
) -> sqlx::Result<u64> {
    let done = sqlx::query!(
        "delete from browse_event
          where shop_id = $1
            and (customer_id = $2
                 or client_id in (select client_id from browse_event
                                   where shop_id = $1 and customer_id = $2))",
        shop.0,
        customer_id
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}
