//! What an applied batch changed, so the models can reload exactly that.

use std::collections::BTreeSet;

use crate::store::ShopId;

#[derive(Debug, Default, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Touched {
    pub orders: BTreeSet<(ShopId, i64)>,
    pub products: BTreeSet<(ShopId, i64)>,
    pub customers_forgotten: BTreeSet<(ShopId, i64)>,
    pub rules: BTreeSet<ShopId>,
    pub dropped_shops: BTreeSet<ShopId>,
}

impl Touched {
    pub fn is_empty(&self) -> bool {
        self.orders.is_empty()
            && self.products.is_empty()
            && self.customers_forgotten.is_empty()
            && self.rules.is_empty()
            && self.dropped_shops.is_empty()
    }

    /// Every shop with something to reload.
    pub fn shops(&self) -> BTreeSet<ShopId> {
        self.orders
            .iter()
            .map(|(s, _)| *s)
            .chain(self.products.iter().map(|(s, _)| *s))
            .chain(self.customers_forgotten.iter().map(|(s, _)| *s))
            .chain(self.rules.iter().copied())
            .collect()
    }

    pub fn order_ids(&self, shop: ShopId) -> Vec<i64> {
        self.orders
            .range((shop, i64::MIN)..=(shop, i64::MAX))
            .map(|(_, id)| *id)
            .collect()
    }

    pub fn product_ids(&self, shop: ShopId) -> Vec<i64> {
        self.products
            .range((shop, i64::MIN)..=(shop, i64::MAX))
            .map(|(_, id)| *id)
            .collect()
    }

    pub fn forgotten_customers(&self, shop: ShopId) -> Vec<i64> {
        self.customers_forgotten
            .range((shop, i64::MIN)..=(shop, i64::MAX))
            .map(|(_, id)| *id)
            .collect()
    }
}
