//! Bestsellers and trending, overall or per product type, with a 30-day sparkline of units sold.

use std::collections::HashMap;

use askama::Template;
use axum::extract::State;
use chrono::Duration;
use serde::Deserialize;

use super::{days, render, Layout, PageResult};
use crate::admin::auth::AdminShop;
use crate::admin::charts;
use crate::app::AppState;
use crate::http::extract::Query;
use crate::recs::lists::{self, Context, Item, List};
use crate::store::{dashboard, rollups};

#[derive(Debug, Deserialize)]
pub struct TypeQuery {
    product_type: Option<String>,
}

pub struct Row {
    pub item: Item,
    pub sparkline: String,
    pub units: i64,
}

#[derive(Template)]
#[template(path = "admin/bestsellers.html")]
struct Page {
    layout: Layout,
    types: Vec<String>,
    product_type: String,
    bestsellers: Vec<Row>,
    trending: Vec<Row>,
    half_life: f64,
}

const LIMIT: usize = 12;

pub async fn page(
    State(state): State<AppState>,
    shop: AdminShop,
    Query(q): Query<TypeQuery>,
) -> PageResult {
    let now = state.now();
    let product_type = q.product_type.unwrap_or_default();
    let context = Context {
        product_type: (!product_type.is_empty()).then(|| product_type.clone()),
        ..Context::default()
    };
    let serve = |list| {
        lists::serve(
            &state.models,
            shop.shop,
            list,
            &context,
            LIMIT,
            now.timestamp(),
        )
        .0
    };
    let best = serve(List::Bestsellers);
    let trending = if product_type.is_empty() {
        serve(List::Trending)
    } else {
        Vec::new()
    };
    let ids: Vec<i64> = best
        .iter()
        .chain(&trending)
        .map(|i| i.product.product_id)
        .collect();
    let from = now - Duration::days(29);
    let span = days(from.date_naive(), now.date_naive());
    let mut units: HashMap<i64, HashMap<chrono::NaiveDate, i64>> = HashMap::new();
    // Past days from the daily totals; today and days not computed yet, live.
    let (first, today) = (from.date_naive(), now.date_naive());
    let live_from = rollups::first_missing(&state.pool, shop.shop, first, today).await?;
    let stored = if live_from > first {
        rollups::product_units(
            &state.pool,
            shop.shop,
            &ids,
            first,
            live_from - Duration::days(1),
        )
        .await?
    } else {
        Vec::new()
    };
    let live_start = live_from.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc();
    let live = dashboard::units_by_day(&state.pool, shop.shop, &ids, live_start).await?;
    for (product, day, n) in stored.into_iter().chain(live) {
        units.entry(product).or_default().insert(day, n);
    }
    let rows = |items: Vec<Item>| -> Vec<Row> {
        items
            .into_iter()
            .map(|item| {
                let per_day = units.get(&item.product.product_id);
                let values: Vec<f64> = span
                    .iter()
                    .map(|d| per_day.and_then(|m| m.get(d)).copied().unwrap_or(0) as f64)
                    .collect();
                Row {
                    units: values.iter().sum::<f64>() as i64,
                    sparkline: charts::sparkline(&values),
                    item,
                }
            })
            .collect()
    };
    render(Page {
        layout: Layout::new(
            &state,
            &shop,
            "/admin/bestsellers",
            "Bestsellers & trending",
        ),
        types: dashboard::product_types(&state.pool, shop.shop).await?,
        half_life: state.settings.engine.bestseller_half_life_days,
        bestsellers: rows(best),
        trending: rows(trending),
        product_type,
    })
}
