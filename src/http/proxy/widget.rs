//! `GET /proxy/widget`: a recommendation list as a server-rendered fragment (or JSON).

use askama::Template;
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use sha2::{Digest, Sha256};

use std::sync::Arc;

use super::{cache, money, token, ProxyRequest};
use crate::app::AppState;
use crate::http::api::parse_ids;
use crate::http::error::{AppError, AppResult};
use crate::recs::lists::{self, Context, Item, List};

/// What the block asked for, from the verified query.
struct WidgetQuery {
    placement: &'static str,
    list: List,
    context: Context,
    limit: usize,
    heading: String,
    layout: &'static str,
    show_price: bool,
    show_add_to_cart: bool,
    json: bool,
}

fn flag(value: Option<&str>, default: bool) -> bool {
    match value {
        Some("1" | "true" | "on" | "yes") => true,
        Some("0" | "false" | "off" | "no") => false,
        _ => default,
    }
}

fn parse(req: &ProxyRequest, default_limit: usize) -> AppResult<WidgetQuery> {
    let q = &req.query;
    let bad = |m: String| AppError::BadRequest(m);
    let limit = match q.get("limit") {
        None | Some("") => default_limit,
        Some(raw) => raw
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=24).contains(n))
            .ok_or_else(|| bad(format!("limit must be a number from 1 to 24, not `{raw}`")))?,
    };
    let client_id = q
        .get("client_id")
        .filter(|c| !c.is_empty() && c.len() <= 128)
        .map(str::to_owned);
    let mut context = Context {
        customer: req.customer_id,
        client_id,
        ..Context::default()
    };
    let (placement, list, default_heading) = match q.get("placement").unwrap_or("") {
        "product" => {
            let id = q
                .get("product_id")
                .and_then(crate::shopify::ids::parse_id_str);
            context.product =
                Some(id.ok_or_else(|| bad("placement=product needs a product_id".into()))?);
            match q.get("list").unwrap_or("bought_together") {
                "bought_together" => (
                    "product",
                    List::BoughtTogether,
                    "Frequently bought together",
                ),
                "also_viewed" => ("product", List::AlsoViewed, "You may also like"),
                other => {
                    return Err(bad(format!(
                        "unknown list `{other}` for the product placement"
                    )))
                }
            }
        }
        "cart" => {
            context.cart = parse_ids(q.get("product_ids").unwrap_or("")).map_err(|_| {
                bad("placement=cart needs product_ids (1 to 100 product ids)".into())
            })?;
            ("cart", List::Cart, "Complete your order")
        }
        "home" => {
            let personal = context.customer.is_some() || context.client_id.is_some();
            let list = match q.get("list") {
                Some("trending") => List::Trending,
                Some("bestsellers") => List::Bestsellers,
                _ if personal => List::ForYou,
                _ => List::Bestsellers,
            };
            (
                "home",
                list,
                if list == List::ForYou {
                    "Picked for you"
                } else {
                    "Bestsellers"
                },
            )
        }
        other => {
            return Err(bad(format!(
                "placement must be product, cart or home, not `{other}`"
            )))
        }
    };
    let heading = q
        .get("heading")
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .unwrap_or(default_heading);
    Ok(WidgetQuery {
        placement,
        list,
        context,
        limit,
        heading: heading.chars().take(120).collect(),
        layout: if q.get("layout") == Some("carousel") {
            "carousel"
        } else {
            "grid"
        },
        show_price: flag(q.get("show_price"), true),
        show_add_to_cart: flag(q.get("show_add_to_cart"), true),
        json: q.get("format") == Some("json"),
    })
}

/// The holdout: a stable share of anonymous shoppers who never see widgets.
fn in_holdout(shop: i64, client_id: &str, share: f64) -> bool {
    if share <= 0.0 {
        return false;
    }
    let digest = Sha256::new()
        .chain_update(shop.to_be_bytes())
        .chain_update(client_id.as_bytes())
        .finalize();
    let bucket = u16::from_be_bytes([digest[0], digest[1]]) as f64 / 65_536.0;
    bucket < share
}

#[derive(Serialize)]
struct ViewItem {
    product_id: i64,
    position: usize,
    title: String,
    url: String,
    image_url: Option<String>,
    price: Option<String>,
    compare_at: Option<String>,
    variant_id: Option<i64>,
    reason_kind: String,
    reason_text: String,
}

impl ViewItem {
    fn new(item: &Item, currency: &str) -> Self {
        let p = &item.product;
        let compare_at = match (p.compare_at_price, p.price) {
            (Some(was), Some(now)) if was > now => Some(money::format(was, currency)),
            _ => None,
        };
        let reason = serde_json::to_value(&item.reason).ok();
        Self {
            product_id: p.product_id,
            position: item.position,
            title: p.title.clone(),
            url: format!("/products/{}", p.handle),
            image_url: p.image_url.clone(),
            price: p.price.map(|d| money::format(d, currency)),
            compare_at,
            variant_id: p.variant_id,
            reason_kind: reason
                .as_ref()
                .and_then(|r| r["kind"].as_str().map(str::to_owned))
                .unwrap_or_default(),
            reason_text: item.reason_text.clone(),
        }
    }
}

#[derive(Template)]
#[template(path = "widget/list.html")]
struct ListTemplate<'a> {
    token: &'a str,
    token_id: &'a str,
    placement: &'a str,
    list: &'a str,
    heading: &'a str,
    layout: &'a str,
    show_price: bool,
    show_add_to_cart: bool,
    cart_add_url: &'a str,
    items: &'a [ViewItem],
}

#[derive(Serialize)]
struct WidgetJson<'a> {
    token: &'a str,
    placement: &'a str,
    list: &'a str,
    heading: &'a str,
    items: &'a [ViewItem],
}

pub async fn render(State(state): State<AppState>, req: ProxyRequest) -> AppResult<Response> {
    let settings = &state.settings.storefront;
    // The shop's own settings from the dashboard win over the configured defaults; the theme
    // block's own heading and limit win over both.
    let own = state.shop_settings.get(&state.pool, req.shop).await?;
    let mut q = parse(&req, own.widget_limit.unwrap_or(settings.default_limit))?;
    if req.query.get("heading").is_none_or(|h| h.trim().is_empty()) {
        let heading = match (q.placement, q.list) {
            ("product", List::BoughtTogether) => own.heading_product.as_ref(),
            ("cart", _) => own.heading_cart.as_ref(),
            ("home", _) => own.heading_home.as_ref(),
            _ => None,
        };
        if let Some(h) = heading {
            q.heading = h.clone();
        }
    }
    let holdout_share = own.holdout_share.unwrap_or(settings.holdout_share);
    let personal = q.context.customer.is_some() || q.context.client_id.is_some();
    // Anonymous lists may be cached briefly, but only by the shopper's own browser and never
    // across a login (the storefront URL is the same for a guest and a customer).
    let cache = if personal {
        HeaderValue::from_static("private, no-store")
    } else {
        HeaderValue::from_str(&format!(
            "private, max-age={}",
            settings.anonymous_cache_secs
        ))
        .unwrap_or(HeaderValue::from_static("no-store"))
    };
    if q.context.customer.is_none() {
        if let Some(client) = &q.context.client_id {
            if in_holdout(req.shop.0, client, holdout_share) {
                metrics::counter!("shoprecs_widget_holdout_total").increment(1);
                return Ok(
                    (StatusCode::NO_CONTENT, [(header::CACHE_CONTROL, cache)]).into_response()
                );
            }
        }
    }
    if let Some(product) = q.context.product {
        if !lists::has_product(&state.models, req.shop, product) {
            return Err(AppError::NotFound(format!("product {product} not found")));
        }
    }
    let now = state.now().timestamp();
    let list_name = q.list.as_str();
    let token = state.tokens.issue(req.shop, q.placement, list_name, now);
    crate::http::metrics::widget_renders(q.placement, q.json).increment(1);
    // Product and cart lists do not depend on the shopper; home does unless it is a guest's.
    let shared = q.placement != "home" || !personal;
    let key = shared.then(|| cache_key(req.shop.0, &q));
    let generation = state.models.generation();
    let cached = key
        .as_ref()
        .and_then(|k| state.widget_cache.get(k, generation));
    let body = match cached {
        Some(body) => body,
        None => {
            let body = Arc::new(cache::Stamped::new(render_body(
                &state, &req, &q, list_name, now,
            )?));
            if let Some(key) = key {
                state.widget_cache.put(key, generation, body.clone());
            }
            body
        }
    };
    let body = body.stamp(&token, token::id(&token));
    let content_type = if q.json {
        "application/json"
    } else {
        "text/html; charset=utf-8"
    };
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::CACHE_CONTROL, cache),
            (header::VARY, HeaderValue::from_static("Cookie")),
        ],
        body,
    )
        .into_response())
}

fn cache_key(shop: i64, q: &WidgetQuery) -> cache::Key {
    cache::Key {
        shop,
        placement: q.placement,
        list: q.list.as_str(),
        product: q.context.product,
        cart: q.context.cart.clone(),
        limit: q.limit,
        heading: q.heading.clone(),
        layout: q.layout,
        show_price: q.show_price,
        show_add_to_cart: q.show_add_to_cart,
        json: q.json,
    }
}

/// The widget body with placeholders where the token goes.
fn render_body(
    state: &AppState,
    req: &ProxyRequest,
    q: &WidgetQuery,
    list_name: &str,
    now: i64,
) -> AppResult<String> {
    let (items, currency) = lists::serve(&state.models, req.shop, q.list, &q.context, q.limit, now);
    let view: Vec<ViewItem> = items.iter().map(|i| ViewItem::new(i, &currency)).collect();
    if q.json {
        let body = WidgetJson {
            token: cache::TOKEN,
            placement: q.placement,
            list: list_name,
            heading: &q.heading,
            items: &view,
        };
        return serde_json::to_string(&body).map_err(|e| AppError::Internal(e.into()));
    }
    ListTemplate {
        token: cache::TOKEN,
        token_id: cache::TOKEN_ID,
        placement: q.placement,
        list: list_name,
        heading: &q.heading,
        layout: q.layout,
        show_price: q.show_price,
        show_add_to_cart: q.show_add_to_cart,
        cart_add_url: "/cart/add",
        items: &view,
    }
    .render()
    .map_err(|e| AppError::Internal(e.into()))
}
