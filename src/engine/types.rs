//! Input types and configuration of the engine.

use std::collections::HashMap;

/// Shopify product id.
pub type ProductId = i64;
/// Shopify customer id.
pub type CustomerId = i64;
/// Unix seconds. The engine never reads the clock: every time is passed in.
pub type Ts = i64;

/// Tuning knobs of one shop's model. `Default` gives sensible values for a typical store.
#[derive(Debug, Clone, PartialEq)]
pub struct EngineConfig {
    /// Half-life of bestseller scores (net quantity sold), in days.
    pub bestseller_half_life_days: f64,
    /// Half-life of co-purchase pair weights, in days. Long, because pairs are sparse.
    pub pair_half_life_days: f64,
    /// Half-life of the short window that trending compares against the bestseller window.
    pub trending_short_half_life_days: f64,
    /// Orders a pair must share before it is shown on a product page ("bought together"),
    /// so one accidental basket shows nothing there.
    pub min_pair_support: u32,
    /// The same floor for lists that sum the neighbours of several products (cart, "for
    /// you"): there a pair seen once is weak evidence among others, not the whole claim.
    pub min_pair_support_merged: u32,
    /// Pseudo-orders that shrink a co-purchase similarity seen in `n` orders by
    /// `n / (n + prior)`: single accidental pairs rank low instead of being hidden or, being
    /// between rare products (high cosine), shown first. 0 turns shrinkage off.
    pub pair_support_prior: f64,
    /// Exponent `α` of the asymmetric cosine `w(a,b) / (w(a)^(1-α) · w(b)^α)`: 0 ranks by raw
    /// co-occurrence (bestsellers everywhere); larger values discount popular candidates,
    /// moving towards lift. 0.5 is the classic cosine.
    pub pair_popularity_exponent: f64,
    /// A browsing session ends after this many seconds without an event.
    pub session_gap_secs: i64,
    /// Share of a product's buyers who bought it in two or more orders below which it is a
    /// durable good once it has `repeat_purchase_min_buyers` buyers: never "buy again" for a
    /// customer who bought it once (their own repeats still count).
    pub repeat_purchase_min_share: f64,
    /// Buyers a product needs before its repeat share is trusted; also the pseudo-buyers
    /// (at the shop's repeat share) that smooth the share of products with few buyers.
    pub repeat_purchase_min_buyers: u32,
    /// Estimated chance (that the customer's next order contains it, times how due it is)
    /// below which a past purchase is not shown as "buy again" (and not shown at all).
    pub repeat_purchase_min_chance: f64,
    /// Half-life of co-view weights, in days.
    pub view_half_life_days: f64,
    /// Sessions a co-view pair must share before it is shown.
    pub min_view_support: u32,
    /// Half-life of a customer's own signals (bought, carted, viewed), in days.
    pub profile_half_life_days: f64,
    /// Decayed units sold in the short window before a product can be trending, so that one
    /// sale of a new item is not a trend.
    pub trending_min_recent: f64,
    /// Pseudo-count added to both sides of the trending ratio (smoothing).
    pub trending_prior: f64,
    /// Smoothed short/long rate ratio a product must exceed to be trending: a steady seller
    /// sits near 1, so a margin keeps noise out.
    pub trending_min_ratio: f64,
    /// Distinct products kept per browsing session; bounds the O(n²) co-view update.
    pub max_session_products: usize,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            bestseller_half_life_days: 14.0,
            pair_half_life_days: 180.0,
            trending_short_half_life_days: 3.0,
            min_pair_support: 2,
            min_pair_support_merged: 1,
            pair_support_prior: 1.0,
            pair_popularity_exponent: 0.3,
            session_gap_secs: 1800,
            repeat_purchase_min_share: 0.3,
            repeat_purchase_min_buyers: 3,
            repeat_purchase_min_chance: 0.1,
            view_half_life_days: 30.0,
            min_view_support: 2,
            profile_half_life_days: 60.0,
            trending_min_recent: 3.0,
            trending_prior: 2.0,
            trending_min_ratio: 1.25,
            max_session_products: 50,
        }
    }
}

impl EngineConfig {
    /// Replaces values that would break the maths (non-positive half-lives, NaN, an exponent
    /// outside [0, 1]) by the defaults, so a bad setting degrades instead of poisoning scores.
    pub(crate) fn sanitised(mut self) -> Self {
        let d = Self::default();
        let fix = |v: f64, dv: f64| if v.is_finite() && v > 0.0 { v } else { dv };
        self.bestseller_half_life_days =
            fix(self.bestseller_half_life_days, d.bestseller_half_life_days);
        self.pair_half_life_days = fix(self.pair_half_life_days, d.pair_half_life_days);
        self.trending_short_half_life_days = fix(
            self.trending_short_half_life_days,
            d.trending_short_half_life_days,
        );
        self.view_half_life_days = fix(self.view_half_life_days, d.view_half_life_days);
        self.profile_half_life_days = fix(self.profile_half_life_days, d.profile_half_life_days);
        if !self.pair_popularity_exponent.is_finite() {
            self.pair_popularity_exponent = d.pair_popularity_exponent;
        }
        self.pair_popularity_exponent = self.pair_popularity_exponent.clamp(0.0, 1.0);
        if !self.repeat_purchase_min_share.is_finite() {
            self.repeat_purchase_min_share = d.repeat_purchase_min_share;
        }
        if !(self.pair_support_prior.is_finite() && self.pair_support_prior >= 0.0) {
            self.pair_support_prior = d.pair_support_prior;
        }
        if !self.repeat_purchase_min_chance.is_finite() {
            self.repeat_purchase_min_chance = d.repeat_purchase_min_chance;
        }
        if !self.trending_min_recent.is_finite() {
            self.trending_min_recent = d.trending_min_recent;
        }
        self.trending_prior = fix(self.trending_prior, d.trending_prior);
        self.trending_min_ratio = fix(self.trending_min_ratio, d.trending_min_ratio);
        self.session_gap_secs = self.session_gap_secs.max(0);
        self.max_session_products = self.max_session_products.max(2);
        self
    }
}

/// A product as the catalog sync sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct ProductFacts {
    /// Shopify product id.
    pub id: ProductId,
    /// Title, used in reason texts.
    pub title: String,
    /// Shopify product type ("" when unset).
    pub product_type: String,
    /// Vendor.
    pub vendor: String,
    /// Tags (Shopify's comma-separated list, already split).
    pub tags: Vec<String>,
    /// active && published && available (SHOPIFY.md §2.3): only these are ever served.
    pub recommendable: bool,
    /// Shopify `updated_at`: the newest version wins.
    pub updated_at: Ts,
}

/// An order as the ingest layer normalised it.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderFacts {
    /// Shopify order id.
    pub order_id: i64,
    /// None for guest checkouts.
    pub customer_id: Option<CustomerId>,
    /// Processed (or created) time: when the purchase happened.
    pub at: Ts,
    /// Shopify `updated_at`: the newest version wins.
    pub updated_at: Ts,
    /// False for cancelled or test orders: they contribute nothing.
    pub counts: bool,
    /// (product, net quantity after refunds); gift cards and custom lines already removed.
    pub lines: Vec<(ProductId, u32)>,
}

/// What a shopper did with a product.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BrowseKind {
    /// Product page viewed.
    View,
    /// Added to cart.
    AddToCart,
    /// Removed from cart.
    RemoveFromCart,
    /// Checkout started with this product.
    CheckoutStarted,
}

/// One storefront browse event from the web pixel.
#[derive(Debug, Clone, PartialEq)]
pub struct BrowseFacts {
    /// The pixel's anonymous client id (cookie).
    pub client_id: String,
    /// Known when the shopper is logged in.
    pub customer_id: Option<CustomerId>,
    /// The product.
    pub product_id: ProductId,
    /// What happened.
    pub kind: BrowseKind,
    /// When.
    pub at: Ts,
}

/// Merchant rules: pins are shown first (in order), excludes never.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rules {
    /// Pinned on every list, after the context-specific pins.
    pub global_pins: Vec<ProductId>,
    /// Never shown anywhere.
    pub global_excludes: Vec<ProductId>,
    /// Pins on the lists of one context product (product page or cart line).
    pub pins_for: HashMap<ProductId, Vec<ProductId>>,
    /// Excludes on the lists of one context product.
    pub excludes_for: HashMap<ProductId, Vec<ProductId>>,
}

/// Evidence about one product pair.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PairStats {
    /// Counting orders that contain both.
    pub orders_together: u32,
    /// Counting orders that contain `a`.
    pub orders_with_a: u32,
    /// Counting orders that contain `b`.
    pub orders_with_b: u32,
    /// Browsing sessions that contain both.
    pub sessions_together: u32,
    /// Co-purchase similarity as ranked on `a`'s page (scale-free, decayed).
    pub similarity_a_to_b: f64,
    /// Co-purchase similarity as ranked on `b`'s page.
    pub similarity_b_to_a: f64,
}

/// Size of the model, for the dashboard and capacity planning.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ModelStats {
    /// Products known (catalog or seen in orders).
    pub products: usize,
    /// Products that may be served.
    pub recommendable_products: usize,
    /// Orders stored (including non-counting ones).
    pub orders: usize,
    /// Orders that contribute.
    pub counting_orders: usize,
    /// Co-purchase pairs kept (unordered).
    pub pairs: usize,
    /// Co-view pairs kept (unordered).
    pub view_pairs: usize,
    /// Customers with a profile.
    pub customers: usize,
    /// Browser clients tracked.
    pub clients: usize,
    /// Approximate heap bytes of the co-purchase pair table alone.
    pub pair_bytes: usize,
    /// Approximate heap bytes of the whole model.
    pub approx_bytes: usize,
}
