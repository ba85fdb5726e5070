//! The mandatory privacy topics.

use sqlx::PgConnection;

use super::ApplyError;
use crate::shopify::payloads::{CustomersDataRequest, CustomersRedact};
use crate::store::{
    abandoned, carts, customers, events, orders, privacy, segments, widget_events, ShopId,
};

/// `customers/redact`: the customer's row, browsing, segment history, scores and abandoned
/// checkouts go, their orders stay only as anonymous baskets, and a hashed tombstone keeps late webhooks from re-linking them.
pub(super) async fn apply_redact(
    conn: &mut PgConnection,
    shop: ShopId,
    request: CustomersRedact,
) -> Result<i64, ApplyError> {
    let customer_id = request.customer.id;
    orders::unlink_customer(conn, shop, customer_id, &request.orders_to_redact).await?;
    carts::unlink_customer(conn, shop, customer_id).await?;
    abandoned::delete_for_customer(conn, shop, customer_id).await?;
    // Widget events first: they are found through the customer's browsing devices.
    widget_events::delete_for_customer(conn, shop, customer_id).await?;
    events::delete_for_customer(conn, shop, customer_id).await?;
    segments::delete_for_customer(conn, shop, customer_id).await?;
    customers::delete(conn, shop, customer_id).await?;
    privacy::record_redaction(conn, shop, customer_id).await?;
    tracing::info!(shop.id = shop.0, "customer redacted");
    Ok(customer_id)
}

/// `customers/data_request`: recorded for the operator, who answers it with
/// `shoprecs export-customer`.
pub(super) async fn apply_data_request(
    conn: &mut PgConnection,
    shop: ShopId,
    request: CustomersDataRequest,
) -> Result<(), ApplyError> {
    privacy::record_data_request(
        conn,
        shop,
        request.customer.id,
        request.data_request.map(|r| r.id),
        &request.orders_requested,
    )
    .await?;
    tracing::info!(
        shop.id = shop.0,
        "customer data request recorded; answer it with `shoprecs export-customer`"
    );
    Ok(())
}
