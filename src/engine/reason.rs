//! Output types: a recommended product and the evidence for it.

use serde::Serialize;

use super::types::ProductId;

/// One item of a recommendation list.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Recommendation {
    /// The product to show.
    pub product_id: ProductId,
    /// Score from the source that placed the item (similarity, decayed sales, ratio...).
    /// Comparable only within one source; the list's order is the ranking.
    pub score: f64,
    /// Why it is shown, with evidence.
    pub reason: Reason,
}

/// Why an item is on a list.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Reason {
    /// Pinned by the merchant.
    Pinned,
    /// Often in the same order as `with`.
    BoughtTogether {
        /// The context product.
        with: ProductId,
        /// Its title.
        with_title: String,
        /// Counting orders containing both.
        orders_together: u32,
        /// Counting orders containing `with`.
        orders_with: u32,
    },
    /// Often viewed in the same session as `with`.
    ViewedTogether {
        /// The context product.
        with: ProductId,
        /// Its title.
        with_title: String,
        /// Sessions containing both.
        sessions_together: u32,
    },
    /// Similar to something the shopper viewed.
    BecauseYouViewed {
        /// The viewed product.
        with: ProductId,
        /// Its title.
        with_title: String,
    },
    /// Similar to something the shopper put in the cart.
    BecauseYouAddedToCart {
        /// The carted product.
        with: ProductId,
        /// Its title.
        with_title: String,
    },
    /// Similar to something the customer bought.
    BecauseYouBought {
        /// The bought product.
        with: ProductId,
        /// Its title.
        with_title: String,
    },
    /// A consumable the customer bought, now due again.
    BuyAgain {
        /// Days since their last purchase of it.
        last_bought_days_ago: u32,
    },
    /// Among the bestsellers of a product type.
    PopularInType {
        /// The type.
        product_type: String,
    },
    /// Among the bestsellers with a tag.
    PopularWithTag {
        /// The tag (as asked for).
        tag: String,
    },
    /// Among the shop's bestsellers.
    Bestseller,
    /// Selling faster than usual.
    Trending,
    /// Last resort so a shelf is never empty: newest recommendable products.
    FromCatalog,
}

fn plural(n: u32, one: &str, many: &str) -> String {
    if n == 1 {
        format!("{n} {one}")
    } else {
        format!("{n} {many}")
    }
}

impl Reason {
    /// Short English text for the widget, e.g. "Bought together with Shampoo in 37 of 112
    /// orders". Titles are not escaped here: templates escape.
    pub fn text(&self) -> String {
        match self {
            Reason::Pinned => "Picked by the shop".to_owned(),
            Reason::BoughtTogether {
                with_title,
                orders_together,
                orders_with,
                ..
            } => format!(
                "Bought together with {with_title} in {orders_together} of {}",
                plural(*orders_with, "order", "orders")
            ),
            Reason::ViewedTogether {
                with_title,
                sessions_together,
                ..
            } => format!(
                "Viewed together with {with_title} in {}",
                plural(*sessions_together, "visit", "visits")
            ),
            Reason::BecauseYouViewed { with_title, .. } => {
                format!("Because you viewed {with_title}")
            }
            Reason::BecauseYouAddedToCart { with_title, .. } => {
                format!("Because you added {with_title} to your cart")
            }
            Reason::BecauseYouBought { with_title, .. } => {
                format!("Because you bought {with_title}")
            }
            Reason::BuyAgain {
                last_bought_days_ago,
            } => format!(
                "Buy again: you last bought this {} ago",
                plural(*last_bought_days_ago, "day", "days")
            ),
            Reason::PopularInType { product_type } => {
                format!("Popular in {product_type} this week")
            }
            Reason::PopularWithTag { tag } => format!("Popular in {tag} this week"),
            Reason::Bestseller => "Bestseller".to_owned(),
            Reason::Trending => "Trending now".to_owned(),
            Reason::FromCatalog => "More from the shop".to_owned(),
        }
    }
}
