//! `shoprecs eval`: offline accuracy of the engine on a shop's own order history.
//!
//! Pure: no database, no clock. The orders export is split into train and test
//! ([`dataset::Split`]), a [`ShopModel`] learns from the train orders only, and two tasks are
//! scored over the full catalogue (no sampled negatives, [`metrics`]):
//! - A, next purchase: `for_customer` for each test customer, against the distinct products of
//!   their test order(s);
//! - B, basket completion: `for_cart` with a test order minus its last product, against that
//!   product.
//!
//! Baselines in the same run: `popularity` (top-k by train orders containing the product; in
//! task A it does NOT leave out what the customer already bought, in task B it leaves out the
//! cart) and, for task A, `own-history` (the customer's own train products by how many of
//! their orders contain them, then popularity): the simple "buy again" list that grocery-like
//! shops are measured against.

pub mod command;
pub mod dataset;
pub mod dump;
pub mod metrics;
mod report;

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Serialize;

use crate::engine::{
    CustomerId, EngineConfig, OrderFacts, ProductFacts, ProductId, Recommendation, ShopModel,
};
use dataset::{Dataset, Split, SplitRule};
use metrics::Scores;

pub use report::render_text;

/// The engine under test.
pub const SHOPRECS: &str = "shoprecs";
/// Top-k by train orders containing the product.
pub const POPULARITY: &str = "popularity";
/// The customer's own past products by frequency, then popularity (task A only).
pub const OWN_HISTORY: &str = "own-history";

/// One method's scores on one task.
#[derive(Debug, Clone, Serialize)]
pub struct MethodScores {
    /// Method name.
    pub method: String,
    /// Its averages.
    #[serde(flatten)]
    pub scores: Scores,
}

/// How often shoprecs showed an item for one reason in task A, and how often it was bought.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct ReasonCount {
    /// Items shown with this reason.
    pub shown: usize,
    /// Of which were in the customer's test order.
    pub hits: usize,
}

/// What the whole run measured.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// "date:YYYY-MM-DD" or "last-order".
    pub split: String,
    /// List length.
    pub k: usize,
    /// Catalogue size: products seen in train or test orders.
    pub products: usize,
    /// Customers with an e-mail.
    pub customers: usize,
    /// Counting orders used.
    pub orders: usize,
    /// Cancelled orders left out.
    pub cancelled_orders: usize,
    /// Train orders.
    pub train_orders: usize,
    /// Test orders.
    pub test_orders: usize,
    /// Task A, by method.
    pub next_purchase: Vec<MethodScores>,
    /// Task B, by method.
    pub basket_completion: Vec<MethodScores>,
    /// Task A: share of the relevant items that the customer had already bought in train
    /// (how much the task is about re-orders).
    pub repeat_share: f64,
    /// Task A: shoprecs' items by reason kind.
    pub shoprecs_reasons: BTreeMap<String, ReasonCount>,
}

/// The ranked lists of one method for one task, in query order (for `--dump-split`).
#[derive(Debug, Clone)]
pub struct Lists {
    /// Method name.
    pub method: &'static str,
    /// "next_purchase" or "basket_completion".
    pub task: &'static str,
    /// One list per query.
    pub lists: Vec<Vec<ProductId>>,
}

/// A finished evaluation: the report, the split and every list scored.
pub struct Evaluation {
    /// The numbers.
    pub report: Report,
    /// The split the numbers are about.
    pub split: Split,
    /// Every ranked list.
    pub lists: Vec<Lists>,
}

/// Trains an engine with `cfg` on the train orders of `rule`'s split and scores every
/// method at `k`.
pub fn evaluate(ds: &Dataset, rule: SplitRule, k: usize, cfg: EngineConfig) -> Evaluation {
    let split = Split::new(ds, rule);
    let model = train(ds, &split, cfg);
    let popular = popularity(ds, &split);
    let history = histories(ds, &split);
    let catalogue = ds.products.len();

    let mut reasons: BTreeMap<String, ReasonCount> = BTreeMap::new();
    let mut engine_a = Vec::with_capacity(split.customers.len());
    for q in &split.customers {
        let recs = model.for_customer(Some(q.customer), None, k, q.now);
        for r in &recs {
            let c = reasons.entry(reason_kind(r)).or_default();
            c.shown += 1;
            c.hits += usize::from(q.relevant.contains(&r.product_id));
        }
        engine_a.push(recs.iter().map(|r| r.product_id).collect::<Vec<_>>());
    }
    let pop_a: Vec<Vec<ProductId>> = split
        .customers
        .iter()
        .map(|_| top(&popular, k, &HashSet::new()))
        .collect();
    let own_a: Vec<Vec<ProductId>> = split
        .customers
        .iter()
        .map(|q| own_history(history.get(&q.customer), &popular, k))
        .collect();
    let engine_b: Vec<Vec<ProductId>> = split
        .carts
        .iter()
        .map(|q| ids(&model.for_cart(&q.cart, k, q.now)))
        .collect();
    let pop_b: Vec<Vec<ProductId>> = split
        .carts
        .iter()
        .map(|q| top(&popular, k, &q.cart.iter().copied().collect()))
        .collect();

    let rel_a: Vec<Vec<ProductId>> = split.customers.iter().map(|q| q.relevant.clone()).collect();
    let rel_b: Vec<Vec<ProductId>> = split.carts.iter().map(|q| vec![q.hidden]).collect();
    let scored = |method: &str, lists: &[Vec<ProductId>], rel: &[Vec<ProductId>]| MethodScores {
        method: method.to_owned(),
        scores: metrics::score(lists, rel, k, catalogue),
    };
    let (mut repeat, mut relevant) = (0usize, 0usize);
    for q in &split.customers {
        let h = history.get(&q.customer);
        relevant += q.relevant.len();
        repeat += q
            .relevant
            .iter()
            .filter(|p| h.is_some_and(|h| h.contains_key(p)))
            .count();
    }
    let report = Report {
        split: match rule {
            SplitRule::Date(d) => format!("date:{d}"),
            SplitRule::LastOrder => "last-order".to_owned(),
        },
        k,
        products: catalogue,
        customers: ds.customers.len(),
        orders: ds.orders.len(),
        cancelled_orders: ds.cancelled,
        train_orders: split.train.len(),
        test_orders: split.test.len(),
        next_purchase: vec![
            scored(SHOPRECS, &engine_a, &rel_a),
            scored(POPULARITY, &pop_a, &rel_a),
            scored(OWN_HISTORY, &own_a, &rel_a),
        ],
        basket_completion: vec![
            scored(SHOPRECS, &engine_b, &rel_b),
            scored(POPULARITY, &pop_b, &rel_b),
        ],
        repeat_share: if relevant == 0 {
            0.0
        } else {
            repeat as f64 / relevant as f64
        },
        shoprecs_reasons: reasons,
    };
    let lists = vec![
        Lists {
            method: SHOPRECS,
            task: "next_purchase",
            lists: engine_a,
        },
        Lists {
            method: POPULARITY,
            task: "next_purchase",
            lists: pop_a,
        },
        Lists {
            method: OWN_HISTORY,
            task: "next_purchase",
            lists: own_a,
        },
        Lists {
            method: SHOPRECS,
            task: "basket_completion",
            lists: engine_b,
        },
        Lists {
            method: POPULARITY,
            task: "basket_completion",
            lists: pop_b,
        },
    ];
    Evaluation {
        report,
        split,
        lists,
    }
}

fn ids(recs: &[Recommendation]) -> Vec<ProductId> {
    recs.iter().map(|r| r.product_id).collect()
}

fn reason_kind(r: &Recommendation) -> String {
    serde_json::to_value(&r.reason)
        .ok()
        .and_then(|v| v.get("kind").and_then(|k| k.as_str()).map(str::to_owned))
        .unwrap_or_default()
}

/// The engine as the server would build it: catalogue first (every product seen anywhere,
/// recommendable, no type: the orders export has none), then the train orders.
fn train(ds: &Dataset, split: &Split, cfg: EngineConfig) -> ShopModel {
    let mut model = ShopModel::new(cfg);
    for p in ds.products.values() {
        model.upsert_product(ProductFacts {
            id: p.id,
            title: p.title.clone(),
            product_type: String::new(),
            vendor: p.vendor.clone(),
            tags: Vec::new(),
            recommendable: true,
            updated_at: 0,
        });
    }
    model.upsert_orders(split.train.iter().map(|&i| {
        let o = &ds.orders[i];
        OrderFacts {
            order_id: i as i64 + 1,
            customer_id: o.customer,
            at: o.at,
            updated_at: o.at,
            counts: true,
            lines: o.lines.clone(),
        }
    }));
    model
}

/// Products by train orders containing them, most first (ties: smaller id).
fn popularity(ds: &Dataset, split: &Split) -> Vec<ProductId> {
    let mut count: HashMap<ProductId, usize> = HashMap::new();
    for &i in &split.train {
        for p in &ds.orders[i].products {
            *count.entry(*p).or_default() += 1;
        }
    }
    let mut ranked: Vec<(usize, ProductId)> = count.into_iter().map(|(p, n)| (n, p)).collect();
    ranked.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    ranked.into_iter().map(|(_, p)| p).collect()
}

fn top(ranked: &[ProductId], k: usize, skip: &HashSet<ProductId>) -> Vec<ProductId> {
    ranked
        .iter()
        .filter(|p| !skip.contains(p))
        .take(k)
        .copied()
        .collect()
}

/// Per customer: product → (train orders containing it, last time bought).
type History = HashMap<CustomerId, HashMap<ProductId, (usize, i64)>>;

fn histories(ds: &Dataset, split: &Split) -> History {
    let mut h: History = HashMap::new();
    for &i in &split.train {
        let o = &ds.orders[i];
        let Some(c) = o.customer else { continue };
        let mine = h.entry(c).or_default();
        for p in &o.products {
            let e = mine.entry(*p).or_default();
            e.0 += 1;
            e.1 = e.1.max(o.at);
        }
    }
    h
}

fn own_history(
    mine: Option<&HashMap<ProductId, (usize, i64)>>,
    popular: &[ProductId],
    k: usize,
) -> Vec<ProductId> {
    let mut own: Vec<(usize, i64, ProductId)> = mine
        .into_iter()
        .flatten()
        .map(|(&p, &(n, last))| (n, last, p))
        .collect();
    own.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(&a.1)).then(a.2.cmp(&b.2)));
    let mut out: Vec<ProductId> = own.into_iter().take(k).map(|x| x.2).collect();
    let have: HashSet<ProductId> = out.iter().copied().collect();
    out.extend(top(popular, k - out.len(), &have));
    out
}

#[cfg(test)]
mod tests;
