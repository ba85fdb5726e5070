//! Validation of Web Pixels events (SHOPIFY.md §5). Pure: JSON in, rows or a per-field error out.
//! Pixel events are unsigned hints from the shopper's browser: every field is bounded.

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::shopify::ids::parse_id_str;
use crate::store::events::BrowseEventRow;

/// The standard events shoprecs stores; others (page_viewed, DOM events…) are skipped.
pub const STORED_EVENTS: &[&str] = &[
    "product_viewed",
    "collection_viewed",
    "search_submitted",
    "product_added_to_cart",
    "product_removed_from_cart",
    "cart_viewed",
    "checkout_started",
    "checkout_completed",
];

const MAX_ID_LEN: usize = 128;
const MAX_QUERY_LEN: usize = 200;

/// Why one event of a batch was refused.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct EventError {
    pub index: usize,
    pub field: String,
    pub message: String,
}

/// What one event turned into.
#[derive(Debug, PartialEq)]
pub enum Parsed {
    Event(Box<BrowseEventRow>),
    /// A well-formed event of a kind shoprecs does not store.
    Skipped,
}

fn err(index: usize, field: &str, message: impl Into<String>) -> EventError {
    EventError {
        index,
        field: field.to_owned(),
        message: message.into(),
    }
}

/// Reads an id given as a number, a numeric string or a GID.
fn id_at(value: &Value, pointer: &str) -> Option<i64> {
    match value.pointer(pointer)? {
        Value::Number(n) => n.as_i64().filter(|id| *id > 0),
        Value::String(s) => parse_id_str(s),
        _ => None,
    }
}

fn bounded_str<'a>(value: &'a Value, key: &str, index: usize) -> Result<&'a str, EventError> {
    let s = value
        .get(key)
        .and_then(Value::as_str)
        .ok_or_else(|| err(index, key, "required string is missing"))?;
    if s.is_empty() || s.len() > MAX_ID_LEN {
        return Err(err(
            index,
            key,
            format!("must be 1 to {MAX_ID_LEN} characters"),
        ));
    }
    Ok(s)
}

/// Validates event `index` of a batch. `customer_id` is the logged-in customer the pixel saw at
/// `init` (the events themselves do not carry it).
pub fn parse_event(
    index: usize,
    value: &Value,
    customer_id: Option<i64>,
) -> Result<Parsed, EventError> {
    if !value.is_object() {
        return Err(err(index, "event", "must be a JSON object"));
    }
    let name = bounded_str(value, "name", index)?;
    let event_id = bounded_str(value, "id", index)?;
    let client_id = bounded_str(value, "clientId", index)?;
    let timestamp = value
        .get("timestamp")
        .and_then(Value::as_str)
        .ok_or_else(|| err(index, "timestamp", "required ISO-8601 string is missing"))?;
    let occurred_at = DateTime::parse_from_rfc3339(timestamp)
        .map_err(|_| err(index, "timestamp", "is not an ISO-8601 timestamp"))?
        .with_timezone(&Utc);
    if !STORED_EVENTS.contains(&name) {
        return Ok(Parsed::Skipped);
    }
    let customer_id = customer_id.or_else(|| id_at(value, "/customerId"));
    let mut row = BrowseEventRow {
        event_id: event_id.to_owned(),
        name: name.to_owned(),
        client_id: client_id.to_owned(),
        customer_id,
        product_id: None,
        variant_id: None,
        collection_id: None,
        quantity: None,
        search_query: None,
        checkout_token: None,
        occurred_at,
    };
    match name {
        "product_viewed" => {
            row.product_id = Some(id_at(value, "/data/productVariant/product/id").ok_or_else(
                || {
                    err(
                        index,
                        "data.productVariant.product.id",
                        "must be a product id",
                    )
                },
            )?);
            row.variant_id = id_at(value, "/data/productVariant/id");
        }
        "product_added_to_cart" | "product_removed_from_cart" => {
            row.product_id = Some(
                id_at(value, "/data/cartLine/merchandise/product/id").ok_or_else(|| {
                    err(
                        index,
                        "data.cartLine.merchandise.product.id",
                        "must be a product id",
                    )
                })?,
            );
            row.variant_id = id_at(value, "/data/cartLine/merchandise/id");
            row.quantity = value
                .pointer("/data/cartLine/quantity")
                .and_then(Value::as_i64)
                .and_then(|q| i32::try_from(q).ok());
        }
        "collection_viewed" => {
            row.collection_id = id_at(value, "/data/collection/id");
        }
        "search_submitted" => {
            let query = value
                .pointer("/data/searchResult/query")
                .and_then(Value::as_str)
                .ok_or_else(|| {
                    err(
                        index,
                        "data.searchResult.query",
                        "required string is missing",
                    )
                })?;
            row.search_query = Some(query.chars().take(MAX_QUERY_LEN).collect());
        }
        "checkout_started" | "checkout_completed" => {
            row.checkout_token = value
                .pointer("/data/checkout/token")
                .and_then(Value::as_str)
                .filter(|t| !t.is_empty() && t.len() <= MAX_ID_LEN)
                .map(str::to_owned);
            if row.customer_id.is_none() {
                row.customer_id = id_at(value, "/data/checkout/order/customer/id");
            }
        }
        _ => {}
    }
    Ok(Parsed::Event(Box::new(row)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn viewed(product: Value) -> Value {
        json!({"id": "e1", "name": "product_viewed", "clientId": "c1", "timestamp": "2026-11-20T10:00:00.000Z",
               "data": {"productVariant": {"id": "gid://shopify/ProductVariant/22", "product": {"id": product}}}})
    }

    #[test]
    fn numeric_and_gid_product_ids_are_both_read() {
        for product in [json!("11"), json!("gid://shopify/Product/11"), json!(11)] {
            let Ok(Parsed::Event(row)) = parse_event(0, &viewed(product), Some(5)) else {
                panic!("valid event");
            };
            assert_eq!(
                (row.product_id, row.variant_id, row.customer_id),
                (Some(11), Some(22), Some(5))
            );
        }
    }

    #[test]
    fn errors_name_the_field() {
        let e = parse_event(3, &viewed(json!("not-an-id")), None).expect_err("bad id");
        assert_eq!(
            (e.index, e.field.as_str()),
            (3, "data.productVariant.product.id")
        );
        let mut no_time = viewed(json!("1"));
        no_time["timestamp"] = json!("yesterday");
        assert_eq!(
            parse_event(0, &no_time, None).expect_err("bad time").field,
            "timestamp"
        );
        assert_eq!(
            parse_event(0, &json!([1]), None)
                .expect_err("not object")
                .field,
            "event"
        );
    }

    #[test]
    fn other_standard_events_are_skipped_not_refused() {
        let page = json!({"id": "e2", "name": "page_viewed", "clientId": "c", "timestamp": "2026-11-20T10:00:00Z"});
        assert_eq!(parse_event(0, &page, None), Ok(Parsed::Skipped));
    }
}
