//! customers/create, customers/update, customers/delete.

use sqlx::PgConnection;

use super::orders::event_time;
use super::ApplyError;
use crate::shopify::payloads::{Consent, Customer, Deleted};
use crate::store::customers::{self, CustomerRow};
use crate::store::inbox::PendingWebhook;
use crate::store::{privacy, ShopId};

pub(super) async fn apply_customer(
    conn: &mut PgConnection,
    shop: ShopId,
    hook: &PendingWebhook,
    customer: Customer,
) -> Result<(), ApplyError> {
    let customer_id = customer
        .id()
        .ok_or_else(|| ApplyError::Invalid("customer has no id".into()))?;
    if privacy::is_redacted(conn, shop, customer_id).await? {
        return Ok(());
    }
    let row = CustomerRow {
        customer_id,
        accepts_email_marketing: Consent::subscribed(&customer.email_marketing_consent),
        accepts_sms_marketing: Consent::subscribed(&customer.sms_marketing_consent),
        state: customer.state,
        created_at: customer.created_at,
        updated_at: customer.updated_at.unwrap_or_else(|| event_time(hook)),
    };
    if customers::upsert(conn, shop, &row).await? {
        customers::refresh_stats(conn, shop, &[customer_id]).await?;
    }
    Ok(())
}

pub(super) async fn apply_delete(
    conn: &mut PgConnection,
    shop: ShopId,
    hook: &PendingWebhook,
    deleted: Deleted,
) -> Result<(), ApplyError> {
    customers::mark_deleted(conn, shop, deleted.id, event_time(hook)).await?;
    Ok(())
}
