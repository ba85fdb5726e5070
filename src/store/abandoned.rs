//! Abandoned checkouts and their bundle offers: finding candidates, recording, recovering,
//! expiring, listing (see `crate::abandoned` for the rules).

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use sqlx::{PgConnection, PgPool};
use utoipa::ToSchema;

use super::ShopId;

/// An abandoned checkout with its bundle offer, as the API and outgoing events show it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct AbandonedCheckout {
    /// Shopify's checkout token (the key).
    pub checkout_token: String,
    /// Where shoprecs learnt of the checkout: a `checkouts/*` webhook or only the web pixel.
    #[schema(schema_with = source_schema)]
    pub source: String,
    /// Shopify checkout id (null for pixel-only checkouts).
    pub checkout_id: Option<i64>,
    pub cart_token: Option<String>,
    /// Null when only an e-mail is known (the address is not stored).
    pub customer_id: Option<i64>,
    /// The products in the checkout (for pixel-only checkouts: what the shopper carted or
    /// viewed just before; may be empty).
    pub product_ids: Vec<i64>,
    /// A decimal string in `currency`.
    pub total_price: Option<Decimal>,
    pub currency: Option<String>,
    #[schema(schema_with = state_schema)]
    pub state: String,
    /// When it became abandoned: its last change plus the configured delay.
    pub abandoned_at: DateTime<Utc>,
    /// When the order that recovered it was placed.
    pub recovered_at: Option<DateTime<Utc>>,
    pub recovered_order_id: Option<i64>,
    pub expired_at: Option<DateTime<Utc>>,
    pub offer: BundleOffer,
}

/// What to offer the shopper to come back: their items plus one complementary product.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct BundleOffer {
    /// The checkout's items, then the complement.
    pub product_ids: Vec<i64>,
    /// The engine's best complementary product; null when the shop has nothing to suggest.
    pub complement: Option<Complement>,
    /// Suggested discount on the bundle, in percent.
    #[schema(minimum = 0, maximum = 100)]
    pub discount_percent: i32,
    /// The Shopify discount code, once one is created; null until then.
    pub discount_code: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// The complementary product of a bundle offer and why the engine chose it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Complement {
    pub product_id: i64,
    /// Why, with evidence (as on recommendation lists).
    #[schema(value_type = crate::engine::Reason)]
    pub reason: serde_json::Value,
    /// The reason, as a sentence for people.
    pub reason_text: String,
}

fn source_schema() -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::Type::String)
        .enum_values(Some(["checkout", "pixel"]))
        .build()
}

fn state_schema() -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::Type::String)
        .enum_values(Some(["open", "recovered", "expired"]))
        .description(Some(
            "`open` until an order with its checkout or cart token recovers it, or it expires.",
        ))
        .build()
}

/// One stored row, flat.
struct Row {
    abandoned_id: i64,
    checkout_token: String,
    source: String,
    checkout_id: Option<i64>,
    cart_token: Option<String>,
    customer_id: Option<i64>,
    product_ids: Vec<i64>,
    total_price: Option<Decimal>,
    currency: Option<String>,
    state: String,
    abandoned_at: DateTime<Utc>,
    recovered_at: Option<DateTime<Utc>>,
    recovered_order_id: Option<i64>,
    expired_at: Option<DateTime<Utc>>,
    offer_product_ids: Vec<i64>,
    complement_product_id: Option<i64>,
    complement_reason: Option<String>,
    complement_evidence: Option<serde_json::Value>,
    discount_percent: i32,
    discount_code: Option<String>,
    offer_created_at: DateTime<Utc>,
    discount_attempts: i32,
}

impl From<Row> for AbandonedCheckout {
    fn from(r: Row) -> Self {
        let complement = r.complement_product_id.map(|product_id| Complement {
            product_id,
            reason: r.complement_evidence.unwrap_or(serde_json::Value::Null),
            reason_text: r.complement_reason.unwrap_or_default(),
        });
        Self {
            checkout_token: r.checkout_token,
            source: r.source,
            checkout_id: r.checkout_id,
            cart_token: r.cart_token,
            customer_id: r.customer_id,
            product_ids: r.product_ids,
            total_price: r.total_price,
            currency: r.currency,
            state: r.state,
            abandoned_at: r.abandoned_at,
            recovered_at: r.recovered_at,
            recovered_order_id: r.recovered_order_id,
            expired_at: r.expired_at,
            offer: BundleOffer {
                product_ids: r.offer_product_ids,
                complement,
                discount_percent: r.discount_percent,
                discount_code: r.discount_code,
                created_at: r.offer_created_at,
            },
        }
    }
}

/// A checkout that may have been abandoned: no order, no completion, untouched since
/// `last_change`, with a customer (or, from a webhook, an e-mail).
#[derive(Debug, Clone)]
pub struct Candidate {
    /// `checkout` (from a webhook) or `pixel`.
    pub source: &'static str,
    pub checkout_token: String,
    pub checkout_id: Option<i64>,
    pub cart_token: Option<String>,
    pub customer_id: Option<i64>,
    pub last_change: DateTime<Utc>,
    pub total_price: Option<Decimal>,
    pub currency: Option<String>,
    /// The webhook's line items (`[]` for pixel-only checkouts).
    pub lines: serde_json::Value,
    /// The pixel's browsing client, for pixel-only checkouts.
    pub client_id: Option<String>,
}

/// Checkouts known from webhooks, last changed in `(changed_after, changed_before]`, with a
/// customer or an e-mail, not completed, without an order of the same checkout or cart token,
/// and not recorded yet. Oldest first.
pub async fn webhook_candidates(
    conn: &mut PgConnection,
    shop: ShopId,
    changed_before: DateTime<Utc>,
    changed_after: DateTime<Utc>,
    limit: i64,
) -> sqlx::Result<Vec<Candidate>> {
    let rows = sqlx::query!(
        r#"select k.token as "token!", k.checkout_id, k.cart_token, k.customer_id, k.updated_at,
                  k.total_price, k.currency, k.lines
             from checkout k
            where k.shop_id = $1 and k.token is not null and k.token <> ''
              and k.completed_at is null
              and (k.customer_id is not null or k.has_email)
              and k.updated_at <= $2 and k.updated_at > $3
              and not exists (select 1 from abandoned_checkout a
                               where a.shop_id = k.shop_id and a.checkout_token = k.token)
              and not exists (select 1 from "order" o
                               where o.shop_id = k.shop_id
                                 and (o.checkout_token = k.token or o.cart_token = k.cart_token))
            order by k.updated_at, k.checkout_id
            limit $4"#,
        shop.0,
        changed_before,
        changed_after,
        limit
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Candidate {
            source: "checkout",
            checkout_token: r.token,
            checkout_id: Some(r.checkout_id),
            cart_token: r.cart_token,
            customer_id: r.customer_id,
            last_change: r.updated_at,
            total_price: r.total_price,
            currency: r.currency,
            lines: r.lines,
            client_id: None,
        })
        .collect())
}

/// Checkouts known only from the pixel's `checkout_started` of a logged-in customer (no
/// webhook about the token), last seen in `(changed_after, changed_before]`, neither completed
/// (`checkout_completed`) nor ordered, and not recorded yet. Oldest first.
pub async fn pixel_candidates(
    conn: &mut PgConnection,
    shop: ShopId,
    changed_before: DateTime<Utc>,
    changed_after: DateTime<Utc>,
    limit: i64,
) -> sqlx::Result<Vec<Candidate>> {
    let rows = sqlx::query!(
        r#"select e.checkout_token as "token!",
                  (array_agg(e.customer_id order by e.occurred_at desc))[1] as "customer_id!",
                  (array_agg(e.client_id order by e.occurred_at desc))[1] as "client_id!",
                  max(e.occurred_at) as "last_change!"
             from browse_event e
            where e.shop_id = $1 and e.name = 'checkout_started'
              and e.checkout_token is not null and e.checkout_token <> ''
              and e.customer_id is not null and e.occurred_at > $3
              and not exists (select 1 from checkout k
                               where k.shop_id = e.shop_id and k.token = e.checkout_token)
              and not exists (select 1 from browse_event c
                               where c.shop_id = e.shop_id and c.checkout_token = e.checkout_token
                                 and c.name = 'checkout_completed')
              and not exists (select 1 from "order" o
                               where o.shop_id = e.shop_id and o.checkout_token = e.checkout_token)
              and not exists (select 1 from abandoned_checkout a
                               where a.shop_id = e.shop_id and a.checkout_token = e.checkout_token)
            group by e.checkout_token
           having max(e.occurred_at) <= $2
            order by max(e.occurred_at), e.checkout_token
            limit $4"#,
        shop.0,
        changed_before,
        changed_after,
        limit
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Candidate {
            source: "pixel",
            checkout_token: r.token,
            checkout_id: None,
            cart_token: None,
            customer_id: Some(r.customer_id),
            last_change: r.last_change,
            total_price: None,
            currency: None,
            lines: serde_json::Value::Array(Vec::new()),
            client_id: Some(r.client_id),
        })
        .collect())
}

/// What a browsing client carted and viewed in the day before `at`, most recent first.
pub async fn browsed_before(
    conn: &mut PgConnection,
    shop: ShopId,
    client_id: &str,
    at: DateTime<Utc>,
) -> sqlx::Result<(Vec<i64>, Vec<i64>)> {
    let rows = sqlx::query!(
        r#"select product_id as "product_id!",
                  bool_or(name = 'product_added_to_cart') as "carted!"
             from browse_event
            where shop_id = $1 and client_id = $2 and product_id is not null
              and name in ('product_added_to_cart', 'product_viewed')
              and occurred_at <= $3 and occurred_at > $3 - interval '1 day'
            group by product_id
            order by max(occurred_at) desc, product_id
            limit 50"#,
        shop.0,
        client_id,
        at
    )
    .fetch_all(conn)
    .await?;
    let carted = rows
        .iter()
        .filter(|r| r.carted)
        .map(|r| r.product_id)
        .collect();
    let viewed = rows.iter().map(|r| r.product_id).collect();
    Ok((carted, viewed))
}

/// Records an abandoned checkout; `false` when it was recorded already (nothing changes).
/// With `code_pending`, its bundle waits for a discount code (`crate::writeback::discounts`)
/// before its event is sent.
pub async fn insert(
    conn: &mut PgConnection,
    shop: ShopId,
    a: &AbandonedCheckout,
    code_pending: bool,
) -> sqlx::Result<bool> {
    let complement = a.offer.complement.as_ref();
    let done = sqlx::query!(
        "insert into abandoned_checkout
             (shop_id, checkout_token, source, checkout_id, cart_token, customer_id, product_ids,
              total_price, currency, abandoned_at, state, offer_product_ids,
              complement_product_id, complement_reason, complement_evidence, discount_percent,
              discount_code, offer_created_at, discount_state)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18,
                 case when $19 then 'pending' else 'none' end)
         on conflict (shop_id, checkout_token) do nothing",
        shop.0,
        a.checkout_token,
        a.source,
        a.checkout_id,
        a.cart_token,
        a.customer_id,
        &a.product_ids,
        a.total_price,
        a.currency,
        a.abandoned_at,
        a.state,
        &a.offer.product_ids,
        complement.map(|c| c.product_id),
        complement.map(|c| c.reason_text.clone()),
        complement.map(|c| c.reason.clone()),
        a.offer.discount_percent,
        a.offer.discount_code,
        a.offer.created_at,
        code_pending
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// An open abandoned checkout and the first order with its checkout or cart token.
#[derive(Debug, Clone)]
pub struct Recovery {
    pub checkout_token: String,
    pub customer_id: Option<i64>,
    pub abandoned_at: DateTime<Utc>,
    pub order_id: i64,
    pub ordered_at: DateTime<Utc>,
    pub complement_product_id: Option<i64>,
    /// Whether that order contains the offer's complement.
    pub complement_bought: bool,
}

/// Open abandoned checkouts that an order now recovers.
pub async fn recoveries(
    conn: &mut PgConnection,
    shop: ShopId,
    limit: i64,
) -> sqlx::Result<Vec<Recovery>> {
    let rows = sqlx::query!(
        r#"select a.checkout_token, a.customer_id, a.abandoned_at, a.complement_product_id,
                  o.order_id as "order_id!", o.created_at as "ordered_at!",
                  exists (select 1 from order_line l
                           where l.shop_id = a.shop_id and l.order_id = o.order_id
                             and l.product_id = a.complement_product_id) as "complement_bought!"
             from abandoned_checkout a
             join lateral (select o.order_id, o.created_at from "order" o
                            where o.shop_id = a.shop_id
                              and (o.checkout_token = a.checkout_token
                                   or o.cart_token = a.cart_token)
                            order by o.created_at, o.order_id
                            limit 1) o on true
            where a.shop_id = $1 and a.state = 'open'
            order by a.abandoned_id
            limit $2"#,
        shop.0,
        limit
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Recovery {
            checkout_token: r.checkout_token,
            customer_id: r.customer_id,
            abandoned_at: r.abandoned_at,
            order_id: r.order_id,
            ordered_at: r.ordered_at,
            complement_product_id: r.complement_product_id,
            complement_bought: r.complement_bought,
        })
        .collect())
}

/// Marks an open abandoned checkout recovered; `false` when it was not open (any more).
pub async fn mark_recovered(
    conn: &mut PgConnection,
    shop: ShopId,
    r: &Recovery,
) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "update abandoned_checkout
            set state = 'recovered', recovered_at = $3, recovered_order_id = $4
          where shop_id = $1 and checkout_token = $2 and state = 'open'",
        shop.0,
        r.checkout_token,
        r.ordered_at,
        r.order_id
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Expires open abandoned checkouts abandoned before `abandoned_before`; returns how many.
pub async fn expire(
    conn: &mut PgConnection,
    shop: ShopId,
    abandoned_before: DateTime<Utc>,
    now: DateTime<Utc>,
) -> sqlx::Result<u64> {
    let done = sqlx::query!(
        "update abandoned_checkout set state = 'expired', expired_at = $3
          where shop_id = $1 and state = 'open' and abandoned_at < $2",
        shop.0,
        abandoned_before,
        now
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

/// A page of the shop's abandoned checkouts, newest first, optionally of one state, after the
/// cursor `after` (the previous page's last cursor). Each comes with its cursor.
pub async fn list(
    pool: &PgPool,
    shop: ShopId,
    state: Option<&str>,
    after: Option<i64>,
    limit: i64,
) -> sqlx::Result<Vec<(i64, AbandonedCheckout)>> {
    let rows = sqlx::query_as!(
        Row,
        r#"select abandoned_id, checkout_token, source, checkout_id, cart_token, customer_id,
                  product_ids, total_price, currency, state, abandoned_at, recovered_at,
                  recovered_order_id, expired_at, offer_product_ids, complement_product_id,
                  complement_reason, complement_evidence, discount_percent,
                  case when discount_state = 'created' then discount_code end as discount_code,
                  offer_created_at, discount_attempts
             from abandoned_checkout
            where shop_id = $1 and ($2::text is null or state = $2)
              and ($3::int8 is null or abandoned_id < $3)
            order by abandoned_id desc
            limit $4"#,
        shop.0,
        state,
        after,
        limit
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.abandoned_id, r.into()))
        .collect())
}

/// The customer's latest open abandoned checkout (for the e-mail block's bundle).
pub async fn open_for_customer(
    conn: &mut PgConnection,
    shop: ShopId,
    customer_id: i64,
) -> sqlx::Result<Option<AbandonedCheckout>> {
    let row = sqlx::query_as!(
        Row,
        "select abandoned_id, checkout_token, source, checkout_id, cart_token, customer_id,
                product_ids, total_price, currency, state, abandoned_at, recovered_at, recovered_order_id,
                expired_at, offer_product_ids, complement_product_id, complement_reason,
                complement_evidence, discount_percent,
                case when discount_state = 'created' then discount_code end as discount_code,
                offer_created_at, discount_attempts
           from abandoned_checkout
          where shop_id = $1 and customer_id = $2 and state = 'open'
          order by abandoned_at desc, abandoned_id desc
          limit 1",
        shop.0,
        customer_id
    )
    .fetch_optional(conn)
    .await?;
    Ok(row.map(Into::into))
}

/// Deletes the customer's abandoned checkouts (customers/redact).
pub async fn delete_for_customer(
    conn: &mut PgConnection,
    shop: ShopId,
    customer_id: i64,
) -> sqlx::Result<u64> {
    let done = sqlx::query!(
        "delete from abandoned_checkout where shop_id = $1 and customer_id = $2",
        shop.0,
        customer_id
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

/// An offer waiting for its discount code.
pub struct PendingCode {
    pub checkout: AbandonedCheckout,
    pub attempts: i32,
}

/// Up to `limit` offers of the shop waiting for a discount code, oldest first.
pub async fn pending_codes(
    pool: &PgPool,
    shop: ShopId,
    limit: i64,
) -> sqlx::Result<Vec<PendingCode>> {
    let rows = sqlx::query_as!(
        Row,
        r#"select abandoned_id, checkout_token, source, checkout_id, cart_token, customer_id,
                  product_ids, total_price, currency, state, abandoned_at, recovered_at,
                  recovered_order_id, expired_at, offer_product_ids, complement_product_id,
                  complement_reason, complement_evidence, discount_percent, discount_code,
                  offer_created_at, discount_attempts
             from abandoned_checkout
            where shop_id = $1 and discount_state = 'pending'
            order by abandoned_id limit $2"#,
        shop.0,
        limit
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| PendingCode {
            attempts: r.discount_attempts,
            checkout: r.into(),
        })
        .collect())
}

/// Whether any offer of the shop waits for its discount code.
pub async fn has_pending_codes(pool: &PgPool, shop: ShopId) -> sqlx::Result<bool> {
    sqlx::query_scalar!(
        r#"select exists(select 1 from abandoned_checkout
                          where shop_id = $1 and discount_state = 'pending') as "found!""#,
        shop.0
    )
    .fetch_one(pool)
    .await
}

/// The offer's code exists in Shopify (only a still pending offer changes; `false` otherwise).
pub async fn code_created(
    conn: &mut PgConnection,
    shop: ShopId,
    checkout_token: &str,
    code: &str,
    discount_id: &str,
    ends_at: DateTime<Utc>,
) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "update abandoned_checkout
            set discount_state = 'created', discount_code = $3, discount_id = $4,
                discount_ends_at = $5, discount_attempts = discount_attempts + 1,
                discount_error = null
          where shop_id = $1 and checkout_token = $2 and discount_state = 'pending'",
        shop.0,
        checkout_token,
        code,
        discount_id,
        ends_at
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// An attempt failed: counted, and with `give_up` the offer goes out without a code (or, when
/// the checkout is no longer open, not at all: `none`).
pub async fn code_failed(
    conn: &mut PgConnection,
    shop: ShopId,
    checkout_token: &str,
    error: &str,
    give_up: bool,
) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "update abandoned_checkout
            set discount_attempts = discount_attempts + 1, discount_error = $3,
                discount_state = case when $4 then 'failed' else 'pending' end,
                discount_code = case when $4 then null else discount_code end
          where shop_id = $1 and checkout_token = $2 and discount_state = 'pending'",
        shop.0,
        checkout_token,
        error,
        give_up
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A pending offer whose checkout was recovered or expired first needs no code.
pub async fn code_not_needed(
    conn: &mut PgConnection,
    shop: ShopId,
    checkout_token: &str,
) -> sqlx::Result<()> {
    sqlx::query!(
        "update abandoned_checkout set discount_state = 'none', discount_code = null
          where shop_id = $1 and checkout_token = $2 and discount_state = 'pending'",
        shop.0,
        checkout_token
    )
    .execute(conn)
    .await?;
    Ok(())
}
