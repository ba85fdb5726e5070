//! `--dump-split DIR`: the exact split, tasks and ranked lists, so that external baselines
//! train and are scored on the same data (see `scripts/eval-instacart`).
//!
//! Files (CSV with a header; lists of ids are space-separated):
//! - `train.csv`, `test.csv`: `user_key,order_key,product_id,timestamp`, one row per distinct
//!   product of an order; `user_key` is `c<n>` (never the e-mail), empty for a guest.
//! - `next_purchase.csv`: `user_key,now,relevant` (task A, one query per row, in query order).
//! - `basket_completion.csv`: `order_key,now,cart,hidden` (task B).
//! - `recs.csv`: `method,task,query,rank,product_id` (rank from 1), every list scored here.
//! - `products.csv`: `product_id,key,title`.
//! - `report.json`: the report as `--json` prints it.

use std::fs;
use std::path::Path;

use anyhow::Context;

use super::dataset::{Dataset, EvalOrder};
use super::Evaluation;
use crate::engine::{CustomerId, ProductId};

fn user_key(c: Option<CustomerId>) -> String {
    c.map_or_else(String::new, |c| format!("c{c}"))
}

fn joined(ids: &[ProductId]) -> String {
    let v: Vec<String> = ids.iter().map(ToString::to_string).collect();
    v.join(" ")
}

fn writer(dir: &Path, name: &str, header: &[&str]) -> anyhow::Result<csv::Writer<fs::File>> {
    let path = dir.join(name);
    let mut w = csv::Writer::from_path(&path)
        .with_context(|| format!("Failed to create {}", path.display()))?;
    w.write_record(header)?;
    Ok(w)
}

fn write_orders(dir: &Path, name: &str, ds: &Dataset, idx: &[usize]) -> anyhow::Result<()> {
    let mut w = writer(
        dir,
        name,
        &["user_key", "order_key", "product_id", "timestamp"],
    )?;
    for &i in idx {
        let o: &EvalOrder = &ds.orders[i];
        let user = user_key(o.customer);
        for p in &o.products {
            w.write_record([&user, &o.key, &p.to_string(), &o.at.to_string()])?;
        }
    }
    w.flush()?;
    Ok(())
}

/// Writes every file into `dir` (created if needed).
pub fn write(dir: &Path, ds: &Dataset, ev: &Evaluation) -> anyhow::Result<()> {
    fs::create_dir_all(dir).with_context(|| format!("Failed to create {}", dir.display()))?;
    let split = &ev.split;
    write_orders(dir, "train.csv", ds, &split.train)?;
    write_orders(dir, "test.csv", ds, &split.test)?;

    let mut w = writer(dir, "next_purchase.csv", &["user_key", "now", "relevant"])?;
    for q in &split.customers {
        w.write_record([
            user_key(Some(q.customer)),
            q.now.to_string(),
            joined(&q.relevant),
        ])?;
    }
    w.flush()?;

    let mut w = writer(
        dir,
        "basket_completion.csv",
        &["order_key", "now", "cart", "hidden"],
    )?;
    for q in &split.carts {
        w.write_record([
            &q.order,
            &q.now.to_string(),
            &joined(&q.cart),
            &q.hidden.to_string(),
        ])?;
    }
    w.flush()?;

    let mut w = writer(
        dir,
        "recs.csv",
        &["method", "task", "query", "rank", "product_id"],
    )?;
    for l in &ev.lists {
        for (qi, list) in l.lists.iter().enumerate() {
            let query = if l.task == "next_purchase" {
                split.customers.get(qi).map(|q| user_key(Some(q.customer)))
            } else {
                split.carts.get(qi).map(|q| q.order.clone())
            }
            .unwrap_or_default();
            for (rank, p) in list.iter().enumerate() {
                w.write_record([
                    l.method,
                    l.task,
                    &query,
                    &(rank + 1).to_string(),
                    &p.to_string(),
                ])?;
            }
        }
    }
    w.flush()?;

    let mut w = writer(dir, "products.csv", &["product_id", "key", "title"])?;
    for p in ds.products.values() {
        w.write_record([&p.id.to_string(), &p.key, &p.title])?;
    }
    w.flush()?;

    let json = serde_json::to_string_pretty(&ev.report)?;
    fs::write(dir.join("report.json"), json + "\n")
        .with_context(|| format!("Failed to write {}/report.json", dir.display()))?;
    Ok(())
}
