//! The demo's second shop, installed live: a local fake Shopify ([`crate::shopify_fake`])
//! holds its catalogue and order history in the Admin API's GraphQL shapes, so a person can
//! open `/auth?shop=…`, watch the fake approve the install, and follow the bulk backfill on the
//! dashboard's data health page or with `shoprecs backfill --shop … --status`.

use serde_json::{json, Value};

use crate::shopify_fake::{FakeShopify, World};

/// The shop installed from the demo.
pub const INSTALL_SHOP: &str = "shoprecs-install-demo.myshopify.com";
/// The fake's client id when none is configured.
pub const DEMO_CLIENT_ID: &str = "shoprecs-demo-app";
const SEED: u64 = 2027;

/// Starts the fake Shopify with the install shop's data in it.
pub async fn start_fake(client_id: &str, secret: &str) -> anyhow::Result<FakeShopify> {
    let fake = FakeShopify::start(client_id, secret).await?;
    let data = crate::demo_data::generate(SEED, chrono::Utc::now().timestamp());
    let mut world = fake.world();
    stock(&mut world, &data.products, &data.orders);
    drop(world);
    Ok(fake)
}

fn stock(world: &mut World, products: &[Value], orders: &[Value]) {
    for p in products {
        world.add_bulk_product(INSTALL_SHOP, product(p));
    }
    for o in orders {
        world.add_bulk_order(INSTALL_SHOP, order(o));
    }
}

fn upper(v: &Value) -> Value {
    v.as_str()
        .map_or(Value::Null, |s| json!(s.to_ascii_uppercase()))
}

/// A webhook-shaped product as the bulk products query returns it.
fn product(p: &Value) -> Value {
    let variants: Vec<Value> = p["variants"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|v| {
            json!({"node": {
                "id": v["admin_graphql_api_id"], "title": v["title"], "sku": v["sku"],
                "price": v["price"], "compareAtPrice": v["compare_at_price"],
                "position": v["position"], "inventoryQuantity": v["inventory_quantity"],
                "availableForSale": v["inventory_quantity"].as_i64().unwrap_or(0) > 0,
                "inventoryPolicy": upper(&v["inventory_policy"]),
                "inventoryItem": {"tracked": v["inventory_management"] == "shopify"},
            }})
        })
        .collect();
    let tags: Vec<String> = p["tags"]
        .as_str()
        .unwrap_or("")
        .split(',')
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
        .collect();
    json!({
        "id": p["admin_graphql_api_id"], "handle": p["handle"], "title": p["title"],
        "productType": p["product_type"], "vendor": p["vendor"], "status": upper(&p["status"]),
        "publishedAt": p["published_at"], "updatedAt": p["updated_at"], "tags": tags,
        "isGiftCard": false, "featuredImage": {"url": p["image"]["src"]},
        "variants": {"edges": variants},
    })
}

fn money(amount: &Value) -> Value {
    json!({"shopMoney": {"amount": amount}})
}

/// A webhook-shaped order as the bulk orders query returns it.
fn order(o: &Value) -> Value {
    let lines: Vec<Value> = o["line_items"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|l| {
            json!({"node": {
                "id": l["admin_graphql_api_id"], "quantity": l["quantity"],
                "currentQuantity": l["current_quantity"], "sku": l["sku"], "isGiftCard": false,
                "variant": {"id": format!("gid://shopify/ProductVariant/{}", l["variant_id"])},
                "product": {"id": format!("gid://shopify/Product/{}", l["product_id"])},
                "originalUnitPriceSet": money(&l["price"]),
            }})
        })
        .collect();
    let customer = o["customer"]["admin_graphql_api_id"]
        .as_str()
        .map_or(Value::Null, |gid| json!({"id": gid}));
    json!({
        "id": o["admin_graphql_api_id"], "name": o["name"], "createdAt": o["created_at"],
        "processedAt": o["processed_at"], "updatedAt": o["updated_at"],
        "cancelledAt": o["cancelled_at"], "test": o["test"],
        "displayFinancialStatus": upper(&o["financial_status"]), "currencyCode": o["currency"],
        "totalPriceSet": money(&o["total_price"]),
        "currentTotalPriceSet": money(&o["current_total_price"]),
        "customer": customer, "lineItems": {"edges": lines},
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shopify::payloads;

    #[test]
    fn the_fakes_history_converts_back_to_what_the_applier_reads() {
        let data = crate::demo_data::generate(SEED, 1_795_000_000);
        let o = &data.orders[0];
        let gql = order(o);
        let lines: Vec<Value> = gql["lineItems"]["edges"]
            .as_array()
            .expect("lines")
            .iter()
            .map(|e| e["node"].clone())
            .collect();
        let back = crate::backfill::convert::order_webhook(&gql, &lines);
        let parsed: payloads::Order = serde_json::from_value(back).expect("an order webhook");
        let original: payloads::Order = serde_json::from_value(o.clone()).expect("the original");
        assert_eq!(parsed.id(), original.id());
        assert_eq!(parsed.line_items.len(), original.line_items.len());
        assert_eq!(
            parsed.line_items[0].product_id,
            original.line_items[0].product_id
        );
        assert_eq!(
            parsed.customer.and_then(|c| c.id()),
            original.customer.and_then(|c| c.id())
        );
    }
}
