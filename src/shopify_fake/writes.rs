//! The fake's write-back operations: customer tags and basic code discounts.

use serde_json::{json, Map, Value};

use super::state::World;

fn user_error(field: &[&str], code: &str, message: &str) -> Value {
    json!({"field": field, "code": code, "message": message})
}

/// `tagsAdd(id:, tags:)` / `tagsRemove(id:, tags:)` on a customer.
fn change_tags(world: &mut World, shop: &str, args: &Map<String, Value>, add: bool) -> Value {
    let id = args
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let tags: Vec<String> = args
        .get("tags")
        .and_then(Value::as_array)
        .map(|t| {
            t.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let missing = world
        .data(shop, "deleted_customers", json!([]))
        .as_array()
        .is_some_and(|d| d.iter().any(|x| x == &json!(id)));
    if !id.starts_with("gid://shopify/Customer/") || missing {
        return json!({"node": null, "userErrors": [user_error(&["id"], "INVALID", "Customer does not exist")]});
    }
    let all = world.data(shop, "customer_tags", json!({}));
    let entry = all
        .as_object_mut()
        .map(|m| m.entry(id.clone()).or_insert(json!([])));
    if let Some(Value::Array(current)) = entry {
        for tag in tags {
            let tag = json!(tag);
            let present = current.contains(&tag);
            if add && !present {
                current.push(tag);
            } else if !add && present {
                current.retain(|t| t != &tag);
            }
        }
    }
    json!({"node": {"id": id}, "userErrors": []})
}

pub fn tags_add(world: &mut World, shop: &str, args: &Map<String, Value>) -> Result<Value, Value> {
    Ok(change_tags(world, shop, args, true))
}

pub fn tags_remove(
    world: &mut World,
    shop: &str,
    args: &Map<String, Value>,
) -> Result<Value, Value> {
    Ok(change_tags(world, shop, args, false))
}

/// `discountCodeBasicCreate(basicCodeDiscount:)`: checks what Shopify requires on create
/// (code, title, startsAt, customerGets, context) and that the code is unique in the shop.
pub fn discount_code_basic_create(
    world: &mut World,
    shop: &str,
    args: &Map<String, Value>,
) -> Result<Value, Value> {
    let input = args
        .get("basicCodeDiscount")
        .cloned()
        .unwrap_or(Value::Null);
    let refuse = |errors: Vec<Value>| Ok(json!({"codeDiscountNode": null, "userErrors": errors}));
    let missing: Vec<Value> = ["code", "title", "startsAt", "customerGets"]
        .iter()
        .filter(|f| input.get(**f).is_none_or(Value::is_null))
        .map(|f| {
            user_error(
                &["basicCodeDiscount", f],
                "BLANK",
                &format!("{f} can't be blank"),
            )
        })
        .collect();
    if !missing.is_empty() {
        return refuse(missing);
    }
    if input.get("context").is_none() && input.get("customerSelection").is_none() {
        return refuse(vec![user_error(
            &["basicCodeDiscount", "context"],
            "BLANK",
            "Context can't be blank",
        )]);
    }
    let code = input["code"].as_str().unwrap_or_default().to_owned();
    let taken = world
        .data(shop, "discounts", json!([]))
        .as_array()
        .is_some_and(|d| d.iter().any(|x| x["code"] == json!(code)));
    if taken {
        return refuse(vec![user_error(
            &["basicCodeDiscount", "code"],
            "TAKEN",
            "Code must be unique. Please try a different code.",
        )]);
    }
    let id = format!("gid://shopify/DiscountCodeNode/{}", world.next_id());
    if let Some(list) = world.data(shop, "discounts", json!([])).as_array_mut() {
        list.push(json!({"id": id, "code": code, "input": input}));
    }
    Ok(json!({"codeDiscountNode": {"id": id}, "userErrors": []}))
}

/// `codeDiscountNodeByCode(code:)`.
pub fn code_discount_node_by_code(
    world: &mut World,
    shop: &str,
    args: &Map<String, Value>,
) -> Result<Value, Value> {
    let code = args.get("code").cloned().unwrap_or(Value::Null);
    let found = world
        .data(shop, "discounts", json!([]))
        .as_array()
        .and_then(|d| d.iter().find(|x| x["code"] == code).cloned());
    Ok(found.map_or(Value::Null, |d| json!({"id": d["id"]})))
}
