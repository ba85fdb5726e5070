//! The fake's operations for installing: webhook subscriptions and the web pixel, answered in
//! the shapes of Shopify's Admin GraphQL API (2026-01; deprecated fields too, so older
//! queries still read): `webhookSubscriptions` (a connection; nodes with `id`, `topic`, `uri`,
//! `callbackUrl`, `format`, `endpoint { __typename callbackUrl }`), `webhookSubscriptionCreate`
//! (duplicate topic + address → userError "Address for this topic has already been taken"),
//! `webPixel` (an error when the app has none), `webPixelCreate` (`TAKEN` when one exists) and
//! `webPixelUpdate` (`NOT_FOUND` for another id).
//!
//! State per shop: `data(shop, "webhooks", [])` (a list of subscriptions) and
//! `data(shop, "web_pixel", null)`.

use serde_json::{json, Map, Value};

use super::state::World;

const WEBHOOKS: &str = "webhooks";
const WEB_PIXEL: &str = "web_pixel";

fn user_error(field: &[&str], message: &str, code: Option<&str>) -> Value {
    let mut error = json!({"field": field, "message": message});
    if let Some(code) = code {
        error["code"] = json!(code);
    }
    error
}

fn node(subscription: &Value) -> Value {
    let uri = subscription["uri"].clone();
    json!({
        "id": subscription["id"],
        "topic": subscription["topic"],
        "format": subscription["format"],
        "uri": uri,
        "callbackUrl": uri,
        "endpoint": {"__typename": "WebhookHttpEndpoint", "callbackUrl": uri},
    })
}

/// `webhookSubscriptions(first:)`: the shop's API-created subscriptions.
pub fn webhook_subscriptions(
    world: &mut World,
    shop: &str,
    args: &Map<String, Value>,
) -> Result<Value, Value> {
    let first = args.get("first").and_then(Value::as_u64).unwrap_or(50) as usize;
    let all = world.data(shop, WEBHOOKS, json!([])).clone();
    let list = all.as_array().cloned().unwrap_or_default();
    let edges: Vec<Value> = list
        .iter()
        .take(first)
        .map(|s| json!({"cursor": s["id"], "node": node(s)}))
        .collect();
    Ok(json!({
        "edges": edges,
        "pageInfo": {"hasNextPage": list.len() > first, "endCursor": null},
    }))
}

/// `webhookSubscriptionCreate(topic:, webhookSubscription: {uri | callbackUrl, format})`.
pub fn webhook_subscription_create(
    world: &mut World,
    shop: &str,
    args: &Map<String, Value>,
) -> Result<Value, Value> {
    let refuse = |error: Value| Ok(json!({"webhookSubscription": null, "userErrors": [error]}));
    let topic = args.get("topic").and_then(Value::as_str).unwrap_or("");
    let input = args
        .get("webhookSubscription")
        .cloned()
        .unwrap_or(json!({}));
    let uri = input
        .get("uri")
        .or_else(|| input.get("callbackUrl"))
        .and_then(Value::as_str)
        .unwrap_or("");
    if topic.is_empty() || topic != topic.to_ascii_uppercase() || !topic.contains('_') {
        return refuse(user_error(&["topic"], "Topic is invalid", None));
    }
    if !(uri.starts_with("https://") || uri.starts_with("http://")) {
        return refuse(user_error(
            &["webhookSubscription", "callbackUrl"],
            "Address is invalid",
            None,
        ));
    }
    let format = input
        .get("format")
        .and_then(Value::as_str)
        .unwrap_or("JSON");
    let id = world.next_id();
    let list = world.data(shop, WEBHOOKS, json!([]));
    let taken = list
        .as_array()
        .is_some_and(|l| l.iter().any(|s| s["topic"] == topic && s["uri"] == uri));
    if taken {
        return refuse(user_error(
            &["webhookSubscription", "callbackUrl"],
            "Address for this topic has already been taken",
            None,
        ));
    }
    let subscription = json!({
        "id": format!("gid://shopify/WebhookSubscription/{id}"),
        "topic": topic,
        "uri": uri,
        "format": format,
    });
    if let Some(list) = list.as_array_mut() {
        list.push(subscription.clone());
    }
    Ok(json!({
        "webhookSubscription": {"id": subscription["id"], "topic": topic},
        "userErrors": [],
    }))
}

/// `webPixel`: the app's pixel on the shop, or an error when it has none (as Shopify does).
pub fn web_pixel(
    world: &mut World,
    shop: &str,
    _args: &Map<String, Value>,
) -> Result<Value, Value> {
    let pixel = world.data(shop, WEB_PIXEL, Value::Null).clone();
    if pixel.is_null() {
        return Err(json!({
            "message": "No web pixel was found for this app.",
            "locations": [{"line": 1, "column": 3}],
            "path": ["webPixel"],
            "extensions": {"code": "RESOURCE_NOT_FOUND"},
        }));
    }
    Ok(pixel)
}

/// The settings string, checked as Shopify checks it against the extension's definition
/// (extensions/shoprecs-pixel: `endpoint` at least 8 characters, `shop` at least 1).
fn settings(input: Option<&Value>) -> Result<String, Value> {
    let raw = input
        .and_then(|i| i.get("settings"))
        .and_then(Value::as_str)
        .ok_or_else(|| {
            user_error(
                &["webPixel", "settings"],
                "Settings can't be blank",
                Some("BLANK"),
            )
        })?;
    let parsed: Value = serde_json::from_str(raw).map_err(|_| {
        user_error(
            &["webPixel", "settings"],
            "Settings is not a valid JSON",
            Some("INVALID_CONFIGURATION_JSON"),
        )
    })?;
    let field = |k: &str| parsed.get(k).and_then(Value::as_str).unwrap_or("").len();
    if field("endpoint") < 8 || field("shop") < 1 {
        return Err(user_error(
            &["webPixel", "settings"],
            "Settings do not match the app's settings definition",
            Some("INVALID_SETTINGS"),
        ));
    }
    Ok(raw.to_owned())
}

/// `webPixelCreate(webPixel: {settings})`.
pub fn web_pixel_create(
    world: &mut World,
    shop: &str,
    args: &Map<String, Value>,
) -> Result<Value, Value> {
    let refuse = |error: Value| Ok(json!({"webPixel": null, "userErrors": [error]}));
    let settings = match settings(args.get("webPixel")) {
        Ok(settings) => settings,
        Err(error) => return refuse(error),
    };
    if !world.data(shop, WEB_PIXEL, Value::Null).is_null() {
        return refuse(user_error(
            &["webPixel"],
            "Web pixel is taken.",
            Some("TAKEN"),
        ));
    }
    let id = world.next_id();
    let pixel = json!({"id": format!("gid://shopify/WebPixel/{id}"), "settings": settings});
    *world.data(shop, WEB_PIXEL, Value::Null) = pixel.clone();
    Ok(json!({"webPixel": pixel, "userErrors": []}))
}

/// `webPixelUpdate(id:, webPixel: {settings})`.
pub fn web_pixel_update(
    world: &mut World,
    shop: &str,
    args: &Map<String, Value>,
) -> Result<Value, Value> {
    let refuse = |error: Value| Ok(json!({"webPixel": null, "userErrors": [error]}));
    let settings = match settings(args.get("webPixel")) {
        Ok(settings) => settings,
        Err(error) => return refuse(error),
    };
    let id = args.get("id").cloned().unwrap_or(Value::Null);
    let pixel = world.data(shop, WEB_PIXEL, Value::Null);
    if pixel.is_null() || pixel["id"] != id {
        return refuse(user_error(
            &["id"],
            "Web pixel not found",
            Some("NOT_FOUND"),
        ));
    }
    pixel["settings"] = json!(settings);
    Ok(json!({"webPixel": pixel.clone(), "userErrors": []}))
}
