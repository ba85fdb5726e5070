//! Dispatch of one stored webhook to the code that applies it.

use serde::de::DeserializeOwned;
use sqlx::PgConnection;

use super::topic::Topic;
use super::{carts, catalog, customers, orders, privacy};
use crate::recs::Touched;
use crate::store::inbox::{Outcome, PendingWebhook};
use crate::store::shops;

#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// The payload cannot be used; retrying will not help.
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

pub(super) fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApplyError> {
    serde_json::from_slice(body).map_err(|e| ApplyError::Invalid(format!("malformed payload: {e}")))
}

/// Applies one webhook inside the caller's transaction.
/// For an order topic, the webhook's order state (or why it cannot be used); `None` for other
/// topics. Lets the applier store a batch's orders together.
pub fn order_state(hook: &PendingWebhook) -> Option<Result<orders::OrderState, ApplyError>> {
    use Topic::*;
    match Topic::parse(&hook.topic)? {
        OrdersCreate | OrdersUpdated | OrdersPaid | OrdersCancelled => {
            Some(parse(&hook.body).and_then(|order| orders::normalize(hook, order)))
        }
        _ => None,
    }
}

/// What the webhook changed is added to `touched`, for the models to reload after commit.
pub async fn apply(
    conn: &mut PgConnection,
    hook: &PendingWebhook,
    touched: &mut Touched,
) -> Result<Outcome, ApplyError> {
    let Some(topic) = Topic::parse(&hook.topic) else {
        return Ok(Outcome::Ignored);
    };
    let shop = hook.shop_id;
    use Topic::*;
    match topic {
        OrdersCreate | OrdersUpdated | OrdersPaid | OrdersCancelled => {
            let state = orders::normalize(hook, parse(&hook.body)?)?;
            for id in orders::store_orders(conn, shop, vec![state]).await? {
                touched.orders.insert((shop, id));
            }
        }
        // The order-edit payload is a diff; Shopify follows every edit with orders/updated
        // carrying the full new state, which is what we apply (a diff cannot be applied
        // idempotently). It is still checked, so a malformed one shows up as failed.
        OrdersEdited => {
            parse::<serde_json::Value>(&hook.body)?;
        }
        RefundsCreate => {
            let id = orders::apply_refund(conn, shop, parse(&hook.body)?).await?;
            touched.orders.insert((shop, id));
        }
        ProductsCreate | ProductsUpdate => {
            let id = catalog::apply_product(conn, shop, hook, parse(&hook.body)?).await?;
            touched.products.insert((shop, id));
        }
        ProductsDelete => {
            let id = catalog::apply_delete(conn, shop, hook, parse(&hook.body)?).await?;
            touched.products.insert((shop, id));
        }
        CustomersCreate | CustomersUpdate => {
            customers::apply_customer(conn, shop, hook, parse(&hook.body)?).await?
        }
        CustomersDelete => customers::apply_delete(conn, shop, hook, parse(&hook.body)?).await?,
        CartsCreate | CartsUpdate => {
            carts::apply_cart(conn, shop, hook, parse(&hook.body)?).await?
        }
        CheckoutsCreate | CheckoutsUpdate => {
            carts::apply_checkout(conn, shop, hook, parse(&hook.body)?).await?
        }
        AppUninstalled => shops::mark_uninstalled(conn, shop).await?,
        CustomersDataRequest => privacy::apply_data_request(conn, shop, parse(&hook.body)?).await?,
        CustomersRedact => {
            let id = privacy::apply_redact(conn, shop, parse(&hook.body)?).await?;
            touched.customers_forgotten.insert((shop, id));
        }
        ShopRedact => {
            shops::delete(conn, shop).await?;
            touched.dropped_shops.insert(shop);
        }
        // The body says which operation ended but carries no result URL: the shop's backfill
        // reads the operation itself. Sent on commit, so it never runs ahead of the inbox.
        BulkOperationsFinish => {
            parse::<serde_json::Value>(&hook.body)?;
            crate::backfill::notify(&mut *conn, shop).await?;
        }
    }
    Ok(Outcome::Applied)
}
