//! Rules: pin or exclude a product, on one product's lists or everywhere. A change reloads the
//! shop's rules into the model at once, so the storefront shows it on the next request.

use askama::Template;
use axum::extract::State;
use axum::Form;
use serde::Deserialize;

use super::{render, see_other, Layout, PageResult};
use crate::admin::auth::{verify_csrf, AdminShop};
use crate::app::AppState;
use crate::http::error::AppError;
use crate::http::extract::{Path, Query};
use crate::store::{catalog, dashboard, rules};

#[derive(Debug, Deserialize)]
pub struct RulesQuery {
    q: Option<String>,
    done: Option<String>,
}

pub struct RuleView {
    pub rule: rules::RuleRow,
    pub product: String,
    pub context: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/rules.html")]
struct Page {
    layout: Layout,
    q: String,
    matches: Vec<(i64, String)>,
    rules: Vec<RuleView>,
}

pub async fn page(
    State(state): State<AppState>,
    shop: AdminShop,
    Query(query): Query<RulesQuery>,
) -> PageResult {
    let q = query.q.unwrap_or_default().trim().to_owned();
    let matches = if q.is_empty() {
        Vec::new()
    } else {
        dashboard::search_products(&state.pool, shop.shop, &q, 20).await?
    };
    let list = rules::list(&state.pool, shop.shop).await?;
    let ids: Vec<i64> = list
        .iter()
        .flat_map(|r| std::iter::once(r.product_id).chain(r.context_product_id))
        .collect();
    let titles = dashboard::titles(&state.pool, shop.shop, &ids).await?;
    let title = |id: i64| {
        titles
            .get(&id)
            .cloned()
            .unwrap_or_else(|| format!("product {id}"))
    };
    let rules = list
        .into_iter()
        .map(|rule| RuleView {
            product: title(rule.product_id),
            context: rule.context_product_id.map(title),
            rule,
        })
        .collect();
    let notice = match query.done.as_deref() {
        Some("created") => Some("Rule saved. The storefront shows it now.".to_owned()),
        Some("deleted") => Some("Rule deleted.".to_owned()),
        _ => None,
    };
    render(Page {
        layout: Layout::new(&state, &shop, "/admin/rules", "Rules").with_notice(notice),
        q,
        matches,
        rules,
    })
}

#[derive(Debug, Deserialize)]
pub struct NewRule {
    csrf: String,
    kind: String,
    product_id: i64,
    /// Empty: every list.
    #[serde(default)]
    context_product_id: String,
}

pub async fn create(
    State(state): State<AppState>,
    shop: AdminShop,
    Form(form): Form<NewRule>,
) -> PageResult {
    if let Err(rejected) = verify_csrf(&shop, &form.csrf) {
        return Ok(rejected);
    }
    if form.kind != "pin" && form.kind != "exclude" {
        return Err(AppError::Unprocessable("a rule pins or excludes".into()).into());
    }
    let context = match form.context_product_id.trim() {
        "" => None,
        raw => Some(
            crate::shopify::ids::parse_id_str(raw)
                .ok_or_else(|| AppError::Unprocessable(format!("`{raw}` is not a product id")))?,
        ),
    };
    for id in std::iter::once(form.product_id).chain(context) {
        if !catalog::exists(&state.pool, shop.shop, id).await? {
            return Err(
                AppError::Unprocessable(format!("product {id} is not in this shop")).into(),
            );
        }
    }
    rules::create(
        &state.pool,
        shop.shop,
        &form.kind,
        form.product_id,
        context,
        0,
    )
    .await?;
    crate::recs::follow::rules_changed(&state.pool, &state.models, shop.shop).await;
    Ok(see_other("/admin/rules?done=created"))
}

pub async fn delete(
    State(state): State<AppState>,
    shop: AdminShop,
    Path(rule_id): Path<i64>,
    Form(form): Form<super::CsrfOnly>,
) -> PageResult {
    if let Err(rejected) = verify_csrf(&shop, &form.csrf) {
        return Ok(rejected);
    }
    if !rules::delete(&state.pool, shop.shop, rule_id).await? {
        return Err(AppError::NotFound(format!("no rule {rule_id}")).into());
    }
    crate::recs::follow::rules_changed(&state.pool, &state.models, shop.shop).await;
    Ok(see_other("/admin/rules?done=deleted"))
}
