//! Explore: a product's lists (bought together, also viewed, what the cart widget would add)
//! and a customer's segment, engagement history and "for you", each item with its reason.
//! How merchants debug recommendations.

use askama::Template;
use axum::extract::State;
use chrono::Duration;
use serde::Deserialize;

use super::{render, ChartView, Layout, PageResult};
use crate::admin::auth::AdminShop;
use crate::admin::charts::Series;
use crate::app::AppState;
use crate::http::extract::Query;
use crate::lifecycle::{member, policy_for_reading, Member};
use crate::recs::lists::{self, Context, Item, List};
use crate::store::{dashboard, segments};

#[derive(Debug, Deserialize)]
pub struct ExploreQuery {
    /// Search products by title.
    q: Option<String>,
    product: Option<i64>,
    customer: Option<String>,
}

pub struct Shelf {
    pub title: &'static str,
    pub items: Vec<Item>,
}

pub struct CustomerView {
    pub member: Member,
    pub history: Vec<segments::ChangeRow>,
    pub chart: Option<ChartView>,
    pub for_you: Vec<Item>,
}

#[derive(Template)]
#[template(path = "admin/explore.html")]
struct Page {
    layout: Layout,
    q: String,
    matches: Vec<(i64, String)>,
    product: Option<(i64, String)>,
    shelves: Vec<Shelf>,
    customer_query: String,
    customer: Option<CustomerView>,
    customer_missing: bool,
}

const LIMIT: usize = 8;

pub async fn page(
    State(state): State<AppState>,
    shop: AdminShop,
    Query(query): Query<ExploreQuery>,
) -> PageResult {
    let now = state.now();
    let q = query.q.unwrap_or_default().trim().to_owned();
    let matches = if q.is_empty() {
        Vec::new()
    } else {
        dashboard::search_products(&state.pool, shop.shop, &q, 20).await?
    };
    let mut product = None;
    let mut shelves = Vec::new();
    if let Some(id) = query.product {
        let titles = dashboard::titles(&state.pool, shop.shop, &[id]).await?;
        if let Some(title) = titles.get(&id) {
            product = Some((id, title.clone()));
            let serve = |list: List, context: Context| {
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
            let on_product = || Context {
                product: Some(id),
                ..Context::default()
            };
            shelves = vec![
                Shelf {
                    title: "Frequently bought together",
                    items: serve(List::BoughtTogether, on_product()),
                },
                Shelf {
                    title: "You may also like (also viewed)",
                    items: serve(List::AlsoViewed, on_product()),
                },
                Shelf {
                    title: "The cart widget, with only this product in the cart",
                    items: serve(
                        List::Cart,
                        Context {
                            cart: vec![id],
                            ..Context::default()
                        },
                    ),
                },
            ];
        }
    }
    let customer_query = query.customer.unwrap_or_default().trim().to_owned();
    let customer_id = crate::shopify::ids::parse_id_str(&customer_query);
    let mut customer = None;
    if let Some(id) = customer_id {
        let mut conn = state.pool.acquire().await?;
        let facts = segments::facts(&mut conn, shop.shop, Some(&[id]), i64::MIN, 1).await?;
        if let Some(facts) = facts.first() {
            let policy = policy_for_reading(&mut conn, shop.shop, &state.lifecycle, now).await?;
            let history = segments::history(&mut conn, shop.shop, id).await?;
            let from = (now - Duration::days(89)).date_naive();
            let scores = segments::customer_scores(&mut conn, shop.shop, id, from).await?;
            let chart = (!scores.is_empty()).then(|| {
                let days: Vec<_> = scores.iter().map(|(d, _, _)| *d).collect();
                ChartView::over_days(
                    "Engagement score per day",
                    &days,
                    vec![Series {
                        name: "Score".into(),
                        values: scores.iter().map(|(_, s, _)| f64::from(*s)).collect(),
                    }],
                    false,
                )
            });
            let context = Context {
                customer: Some(id),
                ..Context::default()
            };
            let for_you = lists::serve(
                &state.models,
                shop.shop,
                List::ForYou,
                &context,
                LIMIT,
                now.timestamp(),
            )
            .0;
            customer = Some(CustomerView {
                member: member(facts, &policy, &state.lifecycle, now),
                history,
                chart,
                for_you,
            });
        }
    }
    render(Page {
        layout: Layout::new(&state, &shop, "/admin/explore", "Explore"),
        customer_missing: !customer_query.is_empty() && customer.is_none(),
        q,
        matches,
        product,
        shelves,
        customer_query,
        customer,
    })
}
