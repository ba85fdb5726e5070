//! Abandoned checkouts: open, recovered and expired, with their bundle offers.

use askama::Template;
use axum::extract::State;
use serde::Deserialize;

use super::{money, render, Layout, PageResult};
use crate::admin::auth::AdminShop;
use crate::app::AppState;
use crate::http::extract::Query;
use crate::store::abandoned::{self, AbandonedCheckout};
use crate::store::dashboard;

#[derive(Debug, Deserialize)]
pub struct StateQuery {
    state: Option<String>,
}

pub struct Row {
    pub checkout: AbandonedCheckout,
    pub total: String,
    pub products: Vec<String>,
    pub complement: Option<(String, String)>,
}

#[derive(Template)]
#[template(path = "admin/checkouts.html")]
struct Page {
    layout: Layout,
    state: String,
    counts: (i64, i64, i64),
    rows: Vec<Row>,
}

pub async fn page(
    State(state): State<AppState>,
    shop: AdminShop,
    Query(q): Query<StateQuery>,
) -> PageResult {
    let wanted = match q.state.as_deref() {
        Some(s @ ("open" | "recovered" | "expired")) => s.to_owned(),
        _ => "open".to_owned(),
    };
    let counts = dashboard::checkout_counts(&state.pool, shop.shop).await?;
    let list = abandoned::list(&state.pool, shop.shop, Some(&wanted), None, 100).await?;
    let ids: Vec<i64> = list
        .iter()
        .flat_map(|(_, c)| c.offer.product_ids.iter().copied())
        .collect();
    let titles = dashboard::titles(&state.pool, shop.shop, &ids).await?;
    let title = |id: &i64| {
        titles
            .get(id)
            .cloned()
            .unwrap_or_else(|| format!("product {id}"))
    };
    let rows = list
        .into_iter()
        .map(|(_, c)| {
            let currency = c.currency.clone().unwrap_or_default();
            Row {
                total: c
                    .total_price
                    .map(|p| money(p.try_into().unwrap_or(0.0), &currency))
                    .unwrap_or_default(),
                products: c.product_ids.iter().map(title).collect(),
                complement: c
                    .offer
                    .complement
                    .as_ref()
                    .map(|x| (title(&x.product_id), x.reason_text.clone())),
                checkout: c,
            }
        })
        .collect();
    render(Page {
        layout: Layout::new(&state, &shop, "/admin/checkouts", "Abandoned checkouts"),
        state: wanted,
        counts,
        rows,
    })
}
