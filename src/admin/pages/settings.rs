//! Settings: widget headings and size, the holdout, the model's decay half-lives, the lapse
//! window, segment tags in Shopify, and the endpoints that receive outgoing events (with a test
//! event).

use askama::Template;
use axum::extract::State;
use axum::Form;
use serde::Deserialize;

use super::{render, see_other, Layout, PageResult};
use crate::admin::auth::{verify_csrf, AdminShop};
use crate::app::AppState;
use crate::http::error::AppError;
use crate::http::extract::{Path, Query};
use crate::outbox::endpoint::{parse_url, InvalidEndpoint};
use crate::segments::Overrides;
use crate::store::outbox::{self as endpoints, EndpointRow};
use crate::store::segments;
use crate::store::shop_settings::{self, ShopSettings};

#[derive(Debug, Deserialize)]
pub struct DoneQuery {
    done: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/settings.html")]
struct Page {
    layout: Layout,
    s: ShopSettings,
    lapse_days: Option<f64>,
    defaults: Defaults,
    endpoints: Vec<EndpointRow>,
    signing_secret: String,
    tags: TagStatus,
}

/// Segment tags in Shopify: the prefix, whether the shop can be tagged, and how far it got.
struct TagStatus {
    prefix: String,
    /// Why tags cannot be written now, if they cannot.
    blocked: Option<&'static str>,
    tagged: i64,
    errors: i64,
}

/// The configured defaults, shown as placeholders.
pub struct Defaults {
    pub limit: usize,
    pub holdout: f64,
    pub bestseller_half_life: f64,
    pub pair_half_life: f64,
}

pub async fn page(
    State(state): State<AppState>,
    shop: AdminShop,
    Query(q): Query<DoneQuery>,
) -> PageResult {
    let s = shop_settings::get(&state.pool, shop.shop).await?;
    let mut conn = state.pool.acquire().await?;
    let overrides: Overrides =
        serde_json::from_value(segments::overrides(&mut conn, shop.shop).await?)
            .unwrap_or_default();
    drop(conn);
    let notice = match q.done.as_deref() {
        Some("saved") => Some("Settings saved.".to_owned()),
        Some("endpoint") => {
            Some("Endpoint saved. Events are signed with the secret below.".to_owned())
        }
        Some("removed") => Some("Endpoint removed.".to_owned()),
        Some("tested") => {
            Some("Test event queued: it reaches your endpoints within seconds.".to_owned())
        }
        Some("no-endpoint") => {
            Some("Add an endpoint first: there is nowhere to send a test event.".to_owned())
        }
        _ => None,
    };
    let secret = crate::outbox::sign::shop_secret(&state.secrets.api_secret, &shop.domain);
    let (tagged, errors) = crate::store::tag_sync::summary(&state.pool, shop.shop).await?;
    let tags = TagStatus {
        prefix: state.settings.writeback.tag_prefix.clone(),
        blocked: (!crate::store::access_tokens::can_use_scope(&state.pool, shop.shop, "write_customers").await?)
            .then_some("shoprecs has no Admin API access with the write_customers scope for this shop yet (install the app from Shopify, or re-authorize it)."),
        tagged,
        errors,
    };
    render(Page {
        tags,
        layout: Layout::new(&state, &shop, "/admin/settings", "Settings").with_notice(notice),
        s,
        lapse_days: overrides.lapse_days,
        defaults: Defaults {
            limit: state.settings.storefront.default_limit,
            holdout: state.settings.storefront.holdout_share,
            bestseller_half_life: state.settings.engine.bestseller_half_life_days,
            pair_half_life: state.settings.engine.pair_half_life_days,
        },
        endpoints: endpoints::list_endpoints(&state.pool, shop.shop).await?,
        signing_secret: secrecy::ExposeSecret::expose_secret(&secret).to_owned(),
    })
}

#[derive(Debug, Deserialize)]
pub struct SettingsForm {
    csrf: String,
    #[serde(default)]
    heading_product: String,
    #[serde(default)]
    heading_cart: String,
    #[serde(default)]
    heading_home: String,
    #[serde(default)]
    widget_limit: String,
    #[serde(default)]
    holdout_percent: String,
    #[serde(default)]
    bestseller_half_life_days: String,
    #[serde(default)]
    pair_half_life_days: String,
    #[serde(default)]
    lapse_days: String,
    /// A checkbox: present ("on") when ticked.
    #[serde(default)]
    sync_segment_tags: Option<String>,
}

fn text(v: &str) -> Option<String> {
    let v = v.trim();
    (!v.is_empty()).then(|| v.chars().take(120).collect())
}

fn number(v: &str, name: &str, lo: f64, hi: f64) -> Result<Option<f64>, AppError> {
    let v = v.trim();
    if v.is_empty() {
        return Ok(None);
    }
    match v.parse::<f64>() {
        Ok(x) if (lo..=hi).contains(&x) => Ok(Some(x)),
        _ => Err(AppError::Unprocessable(format!(
            "{name} must be a number from {lo} to {hi}, not `{v}`"
        ))),
    }
}

pub async fn save(
    State(state): State<AppState>,
    shop: AdminShop,
    Form(form): Form<SettingsForm>,
) -> PageResult {
    if let Err(rejected) = verify_csrf(&shop, &form.csrf) {
        return Ok(rejected);
    }
    let settings = ShopSettings {
        heading_product: text(&form.heading_product),
        heading_cart: text(&form.heading_cart),
        heading_home: text(&form.heading_home),
        widget_limit: number(&form.widget_limit, "Products per widget", 1.0, 24.0)?
            .map(|n| n as usize),
        holdout_share: number(&form.holdout_percent, "Holdout", 0.0, 50.0)?.map(|p| p / 100.0),
        bestseller_half_life_days: number(
            &form.bestseller_half_life_days,
            "Bestseller half-life",
            1.0,
            365.0,
        )?,
        pair_half_life_days: number(
            &form.pair_half_life_days,
            "Bought-together half-life",
            7.0,
            3650.0,
        )?,
        sync_segment_tags: Some(form.sync_segment_tags.is_some()),
    };
    let lapse = number(&form.lapse_days, "Lapse window", 7.0, 3650.0)?;
    let engine_changed = {
        let before = shop_settings::get(&state.pool, shop.shop).await?;
        before.bestseller_half_life_days != settings.bestseller_half_life_days
            || before.pair_half_life_days != settings.pair_half_life_days
    };
    shop_settings::set(&state.pool, shop.shop, &settings).await?;
    let mut tx = state.pool.begin().await?;
    let mut overrides: Overrides =
        serde_json::from_value(segments::overrides(&mut tx, shop.shop).await?).unwrap_or_default();
    if overrides.lapse_days != lapse {
        overrides.lapse_days = lapse;
        let json = serde_json::to_value(&overrides).unwrap_or_default();
        segments::set_overrides(&mut tx, shop.shop, &json).await?;
    }
    tx.commit().await?;
    state.shop_settings.forget(shop.shop);
    if engine_changed {
        let change = crate::recs::follow::Change::Rebuild { shop: shop.shop };
        crate::recs::follow::publish(&state.pool, &state.models, &change).await?;
    }
    Ok(see_other("/admin/settings?done=saved"))
}

#[derive(Debug, Deserialize)]
pub struct EndpointForm {
    csrf: String,
    url: String,
}

pub async fn add_endpoint(
    State(state): State<AppState>,
    shop: AdminShop,
    Form(form): Form<EndpointForm>,
) -> PageResult {
    if let Err(rejected) = verify_csrf(&shop, &form.csrf) {
        return Ok(rejected);
    }
    let url = parse_url(&form.url).map_err(|InvalidEndpoint(m)| AppError::Unprocessable(m))?;
    endpoints::add_endpoint(&state.pool, shop.shop, &url, &[]).await?;
    Ok(see_other("/admin/settings?done=endpoint"))
}

pub async fn remove_endpoint(
    State(state): State<AppState>,
    shop: AdminShop,
    Path(endpoint_id): Path<i64>,
    Form(form): Form<super::CsrfOnly>,
) -> PageResult {
    if let Err(rejected) = verify_csrf(&shop, &form.csrf) {
        return Ok(rejected);
    }
    if !endpoints::remove_endpoint(&state.pool, shop.shop, endpoint_id).await? {
        return Err(AppError::NotFound(format!("no endpoint {endpoint_id}")).into());
    }
    Ok(see_other("/admin/settings?done=removed"))
}

pub async fn send_test(
    State(state): State<AppState>,
    shop: AdminShop,
    Form(form): Form<super::CsrfOnly>,
) -> PageResult {
    if let Err(rejected) = verify_csrf(&shop, &form.csrf) {
        return Ok(rejected);
    }
    let sent = crate::outbox::send_test(&state.pool, shop.shop, state.now()).await?;
    state.outbox.wake();
    Ok(see_other(if sent.is_some() {
        "/admin/settings?done=tested"
    } else {
        "/admin/settings?done=no-endpoint"
    }))
}
