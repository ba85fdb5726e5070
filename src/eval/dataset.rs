//! From parsed orders to an evaluation data set: synthetic product and customer ids, the
//! train/test split and the two tasks' queries.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use serde::Serialize;

use crate::csv_import::ImportedOrder;
use crate::engine::{CustomerId, ProductId, Ts};

/// A product seen in the orders; the export has no product ids.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvalProduct {
    /// Synthetic, stable id: a hash of [`EvalProduct::key`].
    pub id: ProductId,
    /// "sku:<Lineitem sku>", or "name:<Lineitem name>" when the SKU is empty.
    pub key: String,
    /// A `Lineitem name` of it.
    pub title: String,
    /// Its `Vendor`, when the export has one.
    pub vendor: String,
}

/// A counting (not cancelled) order with at least one product.
#[derive(Debug, Clone, PartialEq)]
pub struct EvalOrder {
    /// `Name`.
    pub key: String,
    /// `None` for a guest.
    pub customer: Option<CustomerId>,
    /// Created at, Unix seconds.
    pub at: Ts,
    /// (product, quantity) per line, in line order.
    pub lines: Vec<(ProductId, u32)>,
    /// Distinct products in line order.
    pub products: Vec<ProductId>,
}

/// Everything the evaluation needs from an export.
#[derive(Debug, Default)]
pub struct Dataset {
    /// Every product seen in a counting order, by id.
    pub products: BTreeMap<ProductId, EvalProduct>,
    /// Counting orders sorted by time (then name).
    pub orders: Vec<EvalOrder>,
    /// Customers: `CustomerId` n is `customers[n - 1]` (lower-cased e-mail; never written out).
    pub customers: Vec<String>,
    /// Cancelled orders left out.
    pub cancelled: usize,
    /// Orders left out because none of their lines had a positive quantity.
    pub empty: usize,
}

/// FNV-1a, cut to 53 bits so that ids survive JSON and spreadsheets; never 0.
fn stable_id(key: &str) -> ProductId {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in key.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    ((h & ((1 << 53) - 1)) as ProductId).max(1)
}

impl Dataset {
    /// Builds the data set; cancelled orders and orders without a positive line are left out.
    pub fn from_orders(imported: impl IntoIterator<Item = ImportedOrder>) -> Self {
        let mut ds = Dataset::default();
        let mut customer_keys: Vec<String> = Vec::new();
        let mut raw: Vec<(EvalOrder, Option<String>)> = Vec::new();
        for o in imported {
            if o.cancelled_at.is_some() {
                ds.cancelled += 1;
                continue;
            }
            let mut lines = Vec::new();
            let mut products = Vec::new();
            for l in o.lines.iter().filter(|l| l.quantity > 0) {
                let key = if l.sku.is_empty() {
                    format!("name:{}", l.name)
                } else {
                    format!("sku:{}", l.sku)
                };
                let id = stable_id(&key);
                ds.products.entry(id).or_insert_with(|| EvalProduct {
                    id,
                    key,
                    title: l.name.clone(),
                    vendor: l.vendor.clone().unwrap_or_default(),
                });
                lines.push((id, u32::try_from(l.quantity).unwrap_or(0)));
                if !products.contains(&id) {
                    products.push(id);
                }
            }
            if products.is_empty() {
                ds.empty += 1;
                continue;
            }
            if let Some(c) = &o.customer_key {
                customer_keys.push(c.clone());
            }
            let order = EvalOrder {
                key: o.name,
                customer: None,
                at: o.created_at.timestamp(),
                lines,
                products,
            };
            raw.push((order, o.customer_key));
        }
        customer_keys.sort_unstable();
        customer_keys.dedup();
        let ids: HashMap<&str, CustomerId> = customer_keys
            .iter()
            .enumerate()
            .map(|(i, k)| (k.as_str(), i as CustomerId + 1))
            .collect();
        ds.orders = raw
            .into_iter()
            .map(|(mut o, c)| {
                o.customer = c.and_then(|c| ids.get(c.as_str()).copied());
                o
            })
            .collect();
        ds.orders
            .sort_by(|a, b| (a.at, &a.key).cmp(&(b.at, &b.key)));
        ds.customers = customer_keys;
        ds
    }
}

/// How to split orders into train and test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SplitRule {
    /// Train: orders before midnight (UTC) of the date; test: on or after.
    Date(NaiveDate),
    /// Each customer's last order is test, earlier ones train; guests and one-order
    /// customers only train.
    LastOrder,
}

/// "Customer c will buy these next": task A's query.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CustomerQuery {
    /// The customer.
    pub customer: CustomerId,
    /// When the recommendation is asked for.
    pub now: Ts,
    /// Distinct products of their test order(s).
    pub relevant: Vec<ProductId>,
}

/// "This cart is missing one product": task B's query.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CartQuery {
    /// The test order's `Name`.
    pub order: String,
    /// When the recommendation is asked for.
    pub now: Ts,
    /// The order's distinct products but the last.
    pub cart: Vec<ProductId>,
    /// Its last distinct product (in line order).
    pub hidden: ProductId,
}

/// Train / test orders (indices into `Dataset::orders`) and the queries of both tasks.
#[derive(Debug, Clone, PartialEq)]
pub struct Split {
    /// Orders the models learn from.
    pub train: Vec<usize>,
    /// Orders held out.
    pub test: Vec<usize>,
    /// The split time of a date split; the newest train order's time for a last-order split.
    pub now: Ts,
    /// Task A: customers with a train order and a test order.
    pub customers: Vec<CustomerQuery>,
    /// Task B: test orders with two or more distinct products.
    pub carts: Vec<CartQuery>,
}

impl Split {
    /// Splits `ds` by `rule`. With a last-order split each query's `now` is its test order's
    /// time (the moment the shopper would see the list); with a date split it is the date.
    pub fn new(ds: &Dataset, rule: SplitRule) -> Self {
        let mut is_test = vec![false; ds.orders.len()];
        let split_at = match rule {
            SplitRule::Date(d) => {
                let t = d
                    .and_hms_opt(0, 0, 0)
                    .map_or(0, |t| t.and_utc().timestamp());
                for (i, o) in ds.orders.iter().enumerate() {
                    is_test[i] = o.at >= t;
                }
                Some(t)
            }
            SplitRule::LastOrder => {
                let mut last: HashMap<CustomerId, usize> = HashMap::new();
                let mut count: HashMap<CustomerId, usize> = HashMap::new();
                for (i, o) in ds.orders.iter().enumerate() {
                    if let Some(c) = o.customer {
                        last.insert(c, i);
                        *count.entry(c).or_default() += 1;
                    }
                }
                for (c, i) in last {
                    is_test[i] = count.get(&c).copied().unwrap_or(0) >= 2;
                }
                None
            }
        };
        let (test, train): (Vec<usize>, Vec<usize>) =
            (0..ds.orders.len()).partition(|&i| is_test[i]);
        let now =
            split_at.unwrap_or_else(|| train.iter().map(|&i| ds.orders[i].at).max().unwrap_or(0));
        let query_now = |o: &EvalOrder| split_at.unwrap_or(o.at);

        let mut trained: HashMap<CustomerId, bool> = HashMap::new();
        for &i in &train {
            if let Some(c) = ds.orders[i].customer {
                trained.insert(c, true);
            }
        }
        let mut by_customer: BTreeMap<CustomerId, CustomerQuery> = BTreeMap::new();
        let mut carts = Vec::new();
        for &i in &test {
            let o = &ds.orders[i];
            if let Some(c) = o.customer.filter(|c| trained.contains_key(c)) {
                let q = by_customer.entry(c).or_insert_with(|| CustomerQuery {
                    customer: c,
                    now: query_now(o),
                    relevant: Vec::new(),
                });
                for p in &o.products {
                    if !q.relevant.contains(p) {
                        q.relevant.push(*p);
                    }
                }
            }
            if let [cart @ .., hidden] = o.products.as_slice() {
                if !cart.is_empty() {
                    carts.push(CartQuery {
                        order: o.key.clone(),
                        now: query_now(o),
                        cart: cart.to_vec(),
                        hidden: *hidden,
                    });
                }
            }
        }
        Split {
            train,
            test,
            now,
            customers: by_customer.into_values().collect(),
            carts,
        }
    }
}
