//! A bulk result object (GraphQL shape, its connection nodes gathered from the staged lines)
//! → the webhook body the applier already understands (`crate::shopify::payloads`). Only ids,
//! quantities, prices, dates and catalogue fields are carried: no names, e-mails or addresses.

use serde_json::{json, Value};

use crate::shopify::ids::parse_id_str;

/// The GID's numeric id as a JSON number (or null).
fn number(gid: &Value) -> Value {
    gid.as_str()
        .and_then(parse_id_str)
        .map_or(Value::Null, Value::from)
}

/// `{ id }` objects (`variant { id }`) → the numeric id.
fn nested_id(node: &Value, key: &str) -> Value {
    number(&node[key]["id"])
}

/// `*Set { shopMoney { amount } }` or a plain Money string → a decimal string.
fn money(value: &Value) -> Value {
    match value {
        Value::String(_) => value.clone(),
        Value::Object(_) => value["shopMoney"]["amount"].clone(),
        _ => Value::Null,
    }
}

fn lower(value: &Value) -> Value {
    value
        .as_str()
        .map_or(Value::Null, |s| Value::from(s.to_ascii_lowercase()))
}

fn of_type<'a>(children: &'a [Value], kind: &str) -> impl Iterator<Item = &'a Value> {
    let prefix = format!("gid://shopify/{kind}/");
    children
        .iter()
        .filter(move |c| c["id"].as_str().is_some_and(|id| id.starts_with(&prefix)))
}

/// An `orders/updated` body: the order, its line items, its customer's id only.
pub fn order_webhook(order: &Value, children: &[Value]) -> Value {
    let lines: Vec<Value> = of_type(children, "LineItem")
        .map(|l| {
            json!({
                "id": number(&l["id"]),
                "admin_graphql_api_id": l["id"],
                "product_id": nested_id(l, "product"),
                "variant_id": nested_id(l, "variant"),
                "sku": l["sku"].as_str().unwrap_or(""),
                "quantity": l["quantity"].as_i64().unwrap_or(0),
                "current_quantity": l["currentQuantity"].as_i64().or(l["quantity"].as_i64()),
                "price": money(&l["originalUnitPriceSet"]),
                "gift_card": l["isGiftCard"].as_bool().unwrap_or(false),
                // A line whose product was deleted has product null in GraphQL.
                "product_exists": !l["product"].is_null() || l["variant"].is_null(),
            })
        })
        .collect();
    let customer = match &order["customer"]["id"] {
        Value::String(gid) => {
            json!({"id": number(&Value::from(gid.as_str())), "admin_graphql_api_id": gid})
        }
        _ => Value::Null,
    };
    json!({
        "id": number(&order["id"]),
        "admin_graphql_api_id": order["id"],
        "name": order["name"].as_str().unwrap_or(""),
        "created_at": order["createdAt"],
        "processed_at": order["processedAt"],
        "updated_at": order["updatedAt"],
        "cancelled_at": order["cancelledAt"],
        "test": order["test"].as_bool().unwrap_or(false),
        "financial_status": lower(&order["displayFinancialStatus"]),
        "currency": order["currencyCode"].as_str().unwrap_or(""),
        "total_price": money(&order["totalPriceSet"]),
        "current_total_price": money(&order["currentTotalPriceSet"]),
        "source_name": "backfill",
        "customer": customer,
        "line_items": lines,
    })
}

/// A `products/update` body: the product and its variants with price and stock.
pub fn product_webhook(product: &Value, children: &[Value]) -> Value {
    let variants: Vec<Value> = of_type(children, "ProductVariant")
        .enumerate()
        .map(|(i, v)| {
            let tracked = v["inventoryItem"]["tracked"]
                .as_bool()
                // Without the item's flag: an unavailable variant is a tracked one sold out.
                .unwrap_or(v["availableForSale"] == json!(false));
            json!({
                "id": number(&v["id"]),
                "admin_graphql_api_id": v["id"],
                "title": v["title"].as_str().unwrap_or("Default Title"),
                "sku": v["sku"].as_str().unwrap_or(""),
                "price": money(&v["price"]),
                "compare_at_price": money(&v["compareAtPrice"]),
                "position": v["position"].as_i64().unwrap_or(i as i64 + 1),
                "inventory_policy": lower(&v["inventoryPolicy"]).as_str().unwrap_or("deny"),
                "inventory_management": if tracked { json!("shopify") } else { Value::Null },
                "inventory_quantity": v["inventoryQuantity"],
            })
        })
        .collect();
    let tags = match &product["tags"] {
        Value::Array(tags) => tags
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(", "),
        Value::String(s) => s.clone(),
        _ => String::new(),
    };
    let image = match product["featuredImage"]["url"].as_str() {
        Some(url) => json!({"src": url}),
        None => Value::Null,
    };
    json!({
        "id": number(&product["id"]),
        "admin_graphql_api_id": product["id"],
        "title": product["title"].as_str().unwrap_or(""),
        "handle": product["handle"].as_str().unwrap_or(""),
        "product_type": product["productType"].as_str().unwrap_or(""),
        "vendor": product["vendor"].as_str().unwrap_or(""),
        "tags": tags,
        "status": lower(&product["status"]),
        "published_at": product["publishedAt"],
        "updated_at": product["updatedAt"],
        "image": image,
        "gift_card": product["isGiftCard"].as_bool().unwrap_or(false),
        "variants": variants,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shopify::payloads::{Order, Product};

    #[test]
    fn an_order_becomes_the_webhook_the_applier_reads() {
        let order = json!({
            "id": "gid://shopify/Order/820982911946154508", "name": "#1001",
            "createdAt": "2026-03-01T10:00:00Z", "updatedAt": "2026-03-02T10:00:00Z",
            "cancelledAt": null, "test": false, "displayFinancialStatus": "PAID",
            "currencyCode": "EUR", "totalPriceSet": {"shopMoney": {"amount": "30.00"}},
            "customer": {"id": "gid://shopify/Customer/77"},
        });
        let lines = [
            json!({"id": "gid://shopify/LineItem/5", "quantity": 2, "currentQuantity": 1,
                   "sku": "A", "variant": {"id": "gid://shopify/ProductVariant/10"},
                   "product": {"id": "gid://shopify/Product/1"},
                   "originalUnitPriceSet": {"shopMoney": {"amount": "15.00"}},
                   "__parentId": "gid://shopify/Order/820982911946154508"}),
            json!({"id": "gid://shopify/LineItem/6", "quantity": 1, "currentQuantity": 1,
                   "variant": null, "product": null}),
        ];
        let body = order_webhook(&order, &lines);
        let parsed: Order = serde_json::from_value(body.clone()).expect("applier reads it");
        assert_eq!(parsed.id(), Some(820_982_911_946_154_508));
        assert_eq!(parsed.customer.as_ref().and_then(|c| c.id()), Some(77));
        assert_eq!(parsed.line_items.len(), 2);
        assert_eq!(parsed.line_items[0].product_id, Some(1));
        assert_eq!(parsed.line_items[0].variant_id, Some(10));
        assert_eq!(parsed.line_items[0].current_quantity, Some(1));
        assert_eq!(parsed.line_items[1].product_id, None);
        assert_eq!(body["financial_status"], "paid");
        assert!(parsed.updated_at > parsed.created_at);
    }

    #[test]
    fn a_guest_order_has_no_customer() {
        let body = order_webhook(
            &json!({"id": "gid://shopify/Order/1", "customer": null}),
            &[],
        );
        assert!(body["customer"].is_null());
        assert_eq!(body["line_items"], json!([]));
    }

    #[test]
    fn a_product_keeps_its_variants_and_stock() {
        let product = json!({
            "id": "gid://shopify/Product/1", "handle": "mug", "title": "Mug",
            "productType": "Kitchen", "vendor": "Acme", "status": "ACTIVE",
            "publishedAt": "2026-01-01T00:00:00Z", "updatedAt": "2026-01-02T00:00:00Z",
            "tags": ["blue", "sale"],
        });
        let variants = [
            json!({"id": "gid://shopify/ProductVariant/10", "sku": "M-1", "price": "9.50",
                   "compareAtPrice": null, "inventoryQuantity": 0, "availableForSale": false,
                   "__parentId": "gid://shopify/Product/1"}),
            // Another object type under the same parent is not a variant.
            json!({"id": "gid://shopify/MediaImage/3", "__parentId": "gid://shopify/Product/1"}),
        ];
        let body = product_webhook(&product, &variants);
        let parsed: Product = serde_json::from_value(body.clone()).expect("applier reads it");
        assert_eq!(parsed.id(), Some(1));
        assert_eq!(parsed.tag_list(), vec!["blue", "sale"]);
        assert_eq!(parsed.status.as_deref(), Some("active"));
        assert_eq!(parsed.variants.len(), 1);
        assert_eq!(parsed.variants[0].id(), Some(10));
        assert_eq!(
            parsed.variants[0].inventory_management.as_deref(),
            Some("shopify")
        );
        assert_eq!(parsed.variants[0].inventory_quantity, Some(0));
    }
}
