//! Turning engine recommendations into what a shelf shows: product cards with a reason and
//! position. Used by the JSON API and the storefront widgets alike.

use serde::Serialize;

use super::Models;
use crate::engine::{Reason, Recommendation, ShopModel};
use crate::store::catalog::ProductCard;
use crate::store::ShopId;

/// One item of a served list: the product's card, its rank and why it is there.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Item {
    /// 1-based rank on the list.
    #[schema(minimum = 1)]
    pub position: usize,
    #[serde(flatten)]
    pub product: ProductCard,
    /// Score from the source that placed the item; comparable only within one source (the
    /// list's order is the ranking).
    pub score: f64,
    /// Why the item is shown, with evidence.
    pub reason: Reason,
    /// The reason, as a sentence for people.
    pub reason_text: String,
}

/// The lists the engine serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum List {
    BoughtTogether,
    AlsoViewed,
    Cart,
    ForYou,
    Bestsellers,
    Trending,
}

impl List {
    /// Its name as serialized (snake case).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::BoughtTogether => "bought_together",
            Self::AlsoViewed => "also_viewed",
            Self::Cart => "cart",
            Self::ForYou => "for_you",
            Self::Bestsellers => "bestsellers",
            Self::Trending => "trending",
        }
    }
}

/// The context a list is computed for.
#[derive(Debug, Clone, Default)]
pub struct Context {
    pub product: Option<i64>,
    pub cart: Vec<i64>,
    pub customer: Option<i64>,
    pub client_id: Option<String>,
    pub product_type: Option<String>,
}

/// Runs the engine for `list` in `context` and returns at most `limit` items, with the shop's
/// currency. Served from memory: no database round trip.
pub fn serve(
    models: &Models,
    shop: ShopId,
    list: List,
    context: &Context,
    limit: usize,
    now: i64,
) -> (Vec<Item>, String) {
    let recs = models
        .read(shop, |model| compute(model, list, context, limit, now))
        .unwrap_or_default();
    models
        .read_cards(shop, |cards| {
            let items = recs
                .into_iter()
                .filter_map(|r| Some((cards.by_id.get(&r.product_id)?.clone(), r)))
                .enumerate()
                .map(|(i, (product, r))| Item {
                    position: i + 1,
                    product,
                    score: r.score,
                    reason_text: r.reason.text(),
                    reason: r.reason,
                })
                .collect();
            (items, cards.currency.clone())
        })
        .unwrap_or_default()
}

/// Whether the shop has this (non-deleted) product, from memory.
pub fn has_product(models: &Models, shop: ShopId, product_id: i64) -> bool {
    models
        .read_cards(shop, |c| c.by_id.contains_key(&product_id))
        .unwrap_or(false)
}

fn compute(
    model: &ShopModel,
    list: List,
    c: &Context,
    limit: usize,
    now: i64,
) -> Vec<Recommendation> {
    match list {
        List::BoughtTogether => c
            .product
            .map(|p| model.bought_together(p, limit, now))
            .unwrap_or_default(),
        // Shown beside "bought together" on the same page: never repeat its items.
        List::AlsoViewed => c
            .product
            .map(|p| {
                let shown: Vec<i64> = model
                    .bought_together(p, limit, now)
                    .iter()
                    .map(|r| r.product_id)
                    .collect();
                let mut list = model.also_viewed(p, limit + shown.len(), now);
                list.retain(|r| !shown.contains(&r.product_id));
                list.truncate(limit);
                list
            })
            .unwrap_or_default(),
        List::Cart => model.for_cart(&c.cart, limit, now),
        List::ForYou => model.for_customer(c.customer, c.client_id.as_deref(), limit, now),
        List::Bestsellers => model.bestsellers(c.product_type.as_deref(), limit, now),
        List::Trending => model.trending(limit, now),
    }
}

#[cfg(test)]
mod list_name_tests {
    use super::List;

    #[test]
    fn as_str_is_the_serialized_name() {
        for list in [
            List::BoughtTogether,
            List::AlsoViewed,
            List::Cart,
            List::ForYou,
            List::Bestsellers,
            List::Trending,
        ] {
            assert_eq!(
                serde_json::to_value(list).expect("serializes"),
                list.as_str()
            );
        }
    }
}
