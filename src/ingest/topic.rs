//! Webhook topics shoprecs understands.

/// A webhook topic, parsed from `X-Shopify-Topic` (`orders/create`) or the newer family's
/// `shopify-topic` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Topic {
    OrdersCreate,
    OrdersUpdated,
    OrdersPaid,
    OrdersCancelled,
    OrdersEdited,
    RefundsCreate,
    ProductsCreate,
    ProductsUpdate,
    ProductsDelete,
    CustomersCreate,
    CustomersUpdate,
    CustomersDelete,
    CartsCreate,
    CartsUpdate,
    CheckoutsCreate,
    CheckoutsUpdate,
    AppUninstalled,
    CustomersDataRequest,
    CustomersRedact,
    ShopRedact,
    /// A bulk operation ended: wakes the shop's backfill (`crate::backfill`).
    BulkOperationsFinish,
}

impl Topic {
    /// Accepts `orders/create` and the GraphQL enum form `ORDERS_CREATE`.
    pub fn parse(raw: &str) -> Option<Self> {
        let normalized = raw.trim().to_ascii_lowercase().replace('_', "/");
        use Topic::*;
        Some(match normalized.as_str() {
            "orders/create" => OrdersCreate,
            "orders/updated" => OrdersUpdated,
            "orders/paid" => OrdersPaid,
            "orders/cancelled" => OrdersCancelled,
            "orders/edited" => OrdersEdited,
            "refunds/create" => RefundsCreate,
            "products/create" => ProductsCreate,
            "products/update" => ProductsUpdate,
            "products/delete" => ProductsDelete,
            "customers/create" => CustomersCreate,
            "customers/update" => CustomersUpdate,
            "customers/delete" => CustomersDelete,
            "carts/create" => CartsCreate,
            "carts/update" => CartsUpdate,
            "checkouts/create" => CheckoutsCreate,
            "checkouts/update" => CheckoutsUpdate,
            "app/uninstalled" => AppUninstalled,
            "customers/data/request" => CustomersDataRequest,
            "customers/redact" => CustomersRedact,
            "shop/redact" => ShopRedact,
            "bulk/operations/finish" => BulkOperationsFinish,
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_spellings_parse() {
        assert_eq!(Topic::parse("orders/create"), Some(Topic::OrdersCreate));
        assert_eq!(Topic::parse("ORDERS_CREATE"), Some(Topic::OrdersCreate));
        assert_eq!(
            Topic::parse("customers/data_request"),
            Some(Topic::CustomersDataRequest)
        );
        assert_eq!(Topic::parse("APP_UNINSTALLED"), Some(Topic::AppUninstalled));
        assert_eq!(
            Topic::parse("bulk_operations/finish"),
            Some(Topic::BulkOperationsFinish)
        );
        assert_eq!(
            Topic::parse("BULK_OPERATIONS_FINISH"),
            Some(Topic::BulkOperationsFinish)
        );
        assert_eq!(Topic::parse("inventory_levels/update"), None);
    }
}
