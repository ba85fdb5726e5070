//! The demo storefront: home, product and cart pages imitating a Shopify theme, with the same
//! block markup and script as the theme app extension, plus an app-proxy emulator.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Path, Query, RawQuery, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use rust_decimal::Decimal;
use serde::Deserialize;
use sqlx::PgPool;

use crate::http::proxy::money;
use crate::shopify::app_proxy;
use crate::store::{catalog, ShopId};

const SHOPRECS_JS: &str = include_str!("../../extensions/shoprecs-theme/assets/shoprecs.js");
const SHOPRECS_CSS: &str = include_str!("../../extensions/shoprecs-theme/assets/shoprecs.css");
const STORE_CSS: &str = include_str!("store.css");

#[derive(Clone)]
pub struct DemoState {
    pub pool: PgPool,
    pub shop: ShopId,
    pub domain: String,
    pub shop_name: String,
    pub secret: String,
    /// Where the shoprecs server itself listens (the emulator forwards there).
    pub server: String,
    pub client: reqwest::Client,
    pub customers: Vec<(i64, String)>,
}

pub fn routes(state: DemoState) -> Router {
    Router::new()
        .route("/", get(|| async { Redirect::to("/demo/") }))
        .route("/demo", get(|| async { Redirect::to("/demo/") }))
        .route("/demo/", get(home))
        .route("/demo/login", get(login))
        .route("/demo/assets/{file}", get(asset))
        .route("/products/{handle}", get(product))
        .route("/cart", get(cart))
        .route("/cart/add", post(cart_add))
        .route("/cart/clear", post(cart_clear))
        .route("/apps/recs/{*rest}", get(emulate_proxy).post(emulate_proxy))
        .with_state(state)
}

fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

fn customer(headers: &HeaderMap) -> Option<i64> {
    cookie(headers, "demo_customer").and_then(|c| c.parse().ok())
}

/// The cart cookie: `variant:quantity,variant:quantity`.
fn cart_lines(headers: &HeaderMap) -> BTreeMap<i64, i32> {
    cookie(headers, "demo_cart")
        .unwrap_or("")
        .split(',')
        .filter_map(|pair| {
            let (v, q) = pair.split_once(':')?;
            Some((v.parse().ok()?, q.parse().ok()?))
        })
        .collect()
}

fn cart_cookie(lines: &BTreeMap<i64, i32>) -> String {
    let value: Vec<String> = lines.iter().map(|(v, q)| format!("{v}:{q}")).collect();
    format!(
        "demo_cart={}; Path=/; SameSite=Lax; HttpOnly",
        value.join(",")
    )
}

struct CustomerOption {
    id: i64,
    label: String,
    selected: bool,
}

fn customer_options(state: &DemoState, current: Option<i64>) -> Vec<CustomerOption> {
    state
        .customers
        .iter()
        .map(|(id, label)| CustomerOption {
            id: *id,
            label: label.clone(),
            selected: current == Some(*id),
        })
        .collect()
}

struct Card {
    product_id: i64,
    handle: String,
    title: String,
    product_type: String,
    image_url: Option<String>,
    price: String,
    variant_id: i64,
    available: bool,
}

async fn cards(state: &DemoState, filter: Option<&str>) -> sqlx::Result<Vec<Card>> {
    let currency = catalog::currency(&state.pool, state.shop).await?;
    let rows = sqlx::query!(
        r#"select p.product_id, p.handle, p.title, p.product_type, p.image_url,
                  v.variant_id as "variant_id?", v.price as "price?",
                  (v.inventory_policy = 'continue' or v.inventory_management is null
                   or coalesce(v.inventory_quantity, 0) > 0) as "available?"
             from product p
             left join lateral (select * from variant v where v.shop_id = p.shop_id and v.product_id = p.product_id
                                 order by v.position limit 1) v on true
            where p.shop_id = $1 and not p.deleted and p.status = 'active' and p.published_at is not null
              and ($2::text is null or p.handle = $2)
            order by p.product_type, p.title"#,
        state.shop.0,
        filter
    )
    .fetch_all(&state.pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Card {
            product_id: r.product_id,
            handle: r.handle,
            title: r.title,
            product_type: r.product_type,
            image_url: r.image_url,
            price: money::format(r.price.unwrap_or(Decimal::ZERO), &currency),
            variant_id: r.variant_id.unwrap_or_default(),
            available: r.available.unwrap_or(false),
        })
        .collect())
}

fn page(html: Result<String, askama::Error>) -> Response {
    match html {
        Ok(body) => Html(body).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "demo page failed to render");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

fn db_error(e: sqlx::Error) -> Response {
    tracing::error!(error = %e, "demo page query failed");
    (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response()
}

struct Group {
    name: String,
    products: Vec<Card>,
}

#[derive(Template)]
#[template(path = "demo/home.html")]
struct HomePage {
    shop_name: String,
    cart_count: i32,
    customers: Vec<CustomerOption>,
    customer_id: String,
    groups: Vec<Group>,
}

async fn home(State(state): State<DemoState>, headers: HeaderMap) -> Response {
    let all = match cards(&state, None).await {
        Ok(c) => c,
        Err(e) => return db_error(e),
    };
    let mut groups: Vec<Group> = Vec::new();
    for card in all {
        match groups.last_mut() {
            Some(g) if g.name == card.product_type => {
                if g.products.len() < 6 {
                    g.products.push(card);
                }
            }
            _ => groups.push(Group {
                name: card.product_type.clone(),
                products: vec![card],
            }),
        }
    }
    let current = customer(&headers);
    page(
        HomePage {
            shop_name: state.shop_name.clone(),
            cart_count: cart_lines(&headers).values().sum(),
            customers: customer_options(&state, current),
            customer_id: current.map(|c| c.to_string()).unwrap_or_default(),
            groups,
        }
        .render(),
    )
}

#[derive(Template)]
#[template(path = "demo/product.html")]
struct ProductPage {
    shop_name: String,
    cart_count: i32,
    customers: Vec<CustomerOption>,
    customer_id: String,
    product: Card,
}

async fn product(
    State(state): State<DemoState>,
    Path(handle): Path<String>,
    headers: HeaderMap,
) -> Response {
    let product = match cards(&state, Some(&handle)).await {
        Ok(mut c) if !c.is_empty() => c.remove(0),
        Ok(_) => return (StatusCode::NOT_FOUND, "no such product").into_response(),
        Err(e) => return db_error(e),
    };
    let current = customer(&headers);
    page(
        ProductPage {
            shop_name: state.shop_name.clone(),
            cart_count: cart_lines(&headers).values().sum(),
            customers: customer_options(&state, current),
            customer_id: current.map(|c| c.to_string()).unwrap_or_default(),
            product,
        }
        .render(),
    )
}

struct CartLine {
    product_id: i64,
    handle: String,
    title: String,
    quantity: i32,
    price: String,
}

#[derive(Template)]
#[template(path = "demo/cart.html")]
struct CartPage {
    shop_name: String,
    cart_count: i32,
    customers: Vec<CustomerOption>,
    customer_id: String,
    lines: Vec<CartLine>,
    cart_product_ids: String,
}

async fn cart(State(state): State<DemoState>, headers: HeaderMap) -> Response {
    let wanted = cart_lines(&headers);
    let variants: Vec<i64> = wanted.keys().copied().collect();
    let currency = match catalog::currency(&state.pool, state.shop).await {
        Ok(c) => c,
        Err(e) => return db_error(e),
    };
    let rows = sqlx::query!(
        "select v.variant_id, v.product_id, v.price, p.handle, p.title
           from variant v join product p using (shop_id, product_id)
          where v.shop_id = $1 and v.variant_id = any($2)
          order by p.title",
        state.shop.0,
        &variants
    )
    .fetch_all(&state.pool)
    .await;
    let rows = match rows {
        Ok(r) => r,
        Err(e) => return db_error(e),
    };
    let lines: Vec<CartLine> = rows
        .into_iter()
        .map(|r| CartLine {
            product_id: r.product_id,
            handle: r.handle,
            title: r.title,
            quantity: wanted.get(&r.variant_id).copied().unwrap_or(1),
            price: money::format(r.price, &currency),
        })
        .collect();
    let ids: Vec<String> = lines.iter().map(|l| l.product_id.to_string()).collect();
    let current = customer(&headers);
    page(
        CartPage {
            shop_name: state.shop_name.clone(),
            cart_count: wanted.values().sum(),
            customers: customer_options(&state, current),
            customer_id: current.map(|c| c.to_string()).unwrap_or_default(),
            cart_product_ids: ids.join(","),
            lines,
        }
        .render(),
    )
}

#[derive(Deserialize)]
struct AddToCart {
    id: i64,
    quantity: Option<i32>,
}

async fn cart_add(headers: HeaderMap, Form(form): Form<AddToCart>) -> Response {
    let mut lines = cart_lines(&headers);
    *lines.entry(form.id).or_insert(0) += form.quantity.unwrap_or(1).clamp(1, 99);
    (
        [(header::SET_COOKIE, cart_cookie(&lines))],
        Redirect::to("/cart"),
    )
        .into_response()
}

async fn cart_clear() -> Response {
    (
        [(header::SET_COOKIE, cart_cookie(&BTreeMap::new()))],
        Redirect::to("/cart"),
    )
        .into_response()
}

#[derive(Deserialize)]
struct Login {
    customer: Option<String>,
}

async fn login(Query(login): Query<Login>, headers: HeaderMap) -> Response {
    let id = login.customer.and_then(|c| c.parse::<i64>().ok());
    let cookie = match id {
        Some(id) => format!("demo_customer={id}; Path=/; SameSite=Lax; HttpOnly"),
        None => "demo_customer=; Path=/; Max-Age=0; SameSite=Lax; HttpOnly".to_owned(),
    };
    let back = headers
        .get(header::REFERER)
        .and_then(|r| r.to_str().ok())
        .and_then(|r| {
            r.find("/demo")
                .or_else(|| r.find("/products"))
                .or_else(|| r.find("/cart"))
                .map(|i| r[i..].to_owned())
        })
        .unwrap_or_else(|| "/demo/".to_owned());
    ([(header::SET_COOKIE, cookie)], Redirect::to(&back)).into_response()
}

async fn asset(Path(file): Path<String>) -> Response {
    let (body, kind) = match file.as_str() {
        "shoprecs.js" => (SHOPRECS_JS, "text/javascript; charset=utf-8"),
        "shoprecs.css" => (SHOPRECS_CSS, "text/css; charset=utf-8"),
        "store.css" => (STORE_CSS, "text/css; charset=utf-8"),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    (
        [
            (header::CONTENT_TYPE, kind),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

/// The shopper's query with the parameters Shopify's proxy appends.
fn shopify_params(query: String, shop: &str, customer: &str) -> String {
    let mut q = form_urlencoded::Serializer::new(query);
    q.append_pair("shop", shop)
        .append_pair("logged_in_customer_id", customer)
        .append_pair("path_prefix", "/apps/recs")
        .append_pair("timestamp", &chrono::Utc::now().timestamp().to_string());
    q.finish()
}

/// Shopify's app proxy, emulated: forwards `/apps/recs/<rest>` to `/proxy/<rest>` with the
/// shopper's query plus `shop`, `logged_in_customer_id`, `path_prefix` and `timestamp`,
/// signed with the app secret exactly as Shopify signs it. Cookies are not forwarded.
async fn emulate_proxy(
    State(state): State<DemoState>,
    method: Method,
    Path(rest): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let customer = customer(&headers)
        .map(|c| c.to_string())
        .unwrap_or_default();
    let unsigned = shopify_params(query.unwrap_or_default(), &state.domain, &customer);
    let Ok(signature) = app_proxy::sign(&state.secret, &unsigned) else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    let url = format!(
        "{}/proxy/{rest}?{unsigned}&signature={signature}",
        state.server
    );
    let forwarded = state.client.request(method, url).send().await;
    let Ok(response) = forwarded else {
        return (StatusCode::BAD_GATEWAY, "shoprecs did not answer").into_response();
    };
    let status = response.status();
    let mut out = HeaderMap::new();
    for name in [header::CONTENT_TYPE, header::CACHE_CONTROL, header::VARY] {
        if let Some(v) = response.headers().get(&name) {
            out.insert(name, v.clone());
        }
    }
    let body = response.bytes().await.unwrap_or_default();
    (status, out, body).into_response()
}
