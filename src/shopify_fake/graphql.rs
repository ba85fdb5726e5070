//! `POST /{shop}/admin/api/{version}/graphql.json`: token check, faults, cost, dispatch.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::selection::root_fields;
use super::writes;

use super::state::{Fault, Recorded, World};

/// Serves one root field: `(world, shop, resolved arguments)` → its value, or GraphQL `errors`.
pub type Handler = fn(&mut World, &str, &Map<String, Value>) -> Result<Value, Value>;

/// One GraphQL root field the fake implements.
pub struct Operation {
    /// The root field's name (`webPixelCreate`, `shop`, …).
    pub field: &'static str,
    /// Its requested cost (Shopify: 10 for a mutation, 1 + connections for queries).
    pub cost: f64,
    /// Produces the field's value from its resolved arguments, or GraphQL `errors`.
    pub run: Handler,
}

/// Every operation the fake knows.
fn operations() -> &'static [Operation] {
    use super::install_ops as install;
    &[
        Operation {
            field: "shop",
            cost: 1.0,
            run: shop_query,
        },
        Operation {
            field: "tagsAdd",
            cost: 10.0,
            run: writes::tags_add,
        },
        Operation {
            field: "tagsRemove",
            cost: 10.0,
            run: writes::tags_remove,
        },
        Operation {
            field: "discountCodeBasicCreate",
            cost: 10.0,
            run: writes::discount_code_basic_create,
        },
        Operation {
            field: "codeDiscountNodeByCode",
            cost: 1.0,
            run: writes::code_discount_node_by_code,
        },
        Operation {
            field: "webhookSubscriptions",
            cost: 12.0,
            run: install::webhook_subscriptions,
        },
        Operation {
            field: "webhookSubscriptionCreate",
            cost: 10.0,
            run: install::webhook_subscription_create,
        },
        Operation {
            field: "webPixel",
            cost: 2.0,
            run: install::web_pixel,
        },
        Operation {
            field: "webPixelCreate",
            cost: 10.0,
            run: install::web_pixel_create,
        },
        Operation {
            field: "webPixelUpdate",
            cost: 10.0,
            run: install::web_pixel_update,
        },
        Operation {
            field: "bulkOperationRunQuery",
            cost: 10.0,
            run: super::bulk::run_query,
        },
        Operation {
            field: "currentBulkOperation",
            cost: 1.0,
            run: super::bulk::current,
        },
        Operation {
            field: "node",
            cost: 1.0,
            run: super::bulk::node,
        },
    ]
}

fn shop_query(world: &mut World, shop: &str, _args: &Map<String, Value>) -> Result<Value, Value> {
    let id = world.next_id();
    Ok(json!({
        "id": format!("gid://shopify/Shop/{id}"),
        "myshopifyDomain": shop,
        "currencyCode": "EUR",
    }))
}

#[derive(Deserialize)]
pub struct Request {
    query: String,
    #[serde(default)]
    variables: Value,
}

fn error(message: String, code: &str) -> Value {
    json!([{ "message": message, "extensions": {"code": code} }])
}

pub async fn endpoint(
    State(world): State<Arc<Mutex<World>>>,
    Path((shop, _version)): Path<(String, String)>,
    headers: HeaderMap,
    Json(request): Json<Request>,
) -> Response {
    let fields = match root_fields(&request.query, &request.variables) {
        Ok(fields) if !fields.is_empty() => fields,
        Ok(_) => {
            return Json(json!({"errors": error("empty selection".into(), "parseError")}))
                .into_response()
        }
        Err(e) => return Json(json!({"errors": error(e, "parseError")})).into_response(),
    };
    let label = fields[0].name.clone();
    let fault = {
        let mut w = world.lock().unwrap_or_else(|e| e.into_inner());
        w.faults.pop_front()
    };
    // A lost answer is served first and then replaced by an error status.
    let (fault, lose_answer) = match fault {
        Some(Fault::LoseAnswer(status)) => (None, Some(status)),
        other => (other, None),
    };
    if let Some(response) = apply_fault(&world, fault, &shop, &label, &request.variables).await {
        return response;
    }
    let mut w = world.lock().unwrap_or_else(|e| e.into_inner());
    let request_no = w.next_id();
    let record = |w: &mut World, outcome: &str| {
        for field in &fields {
            w.requests.push(Recorded {
                shop: shop.clone(),
                operation: field.name.clone(),
                variables: Value::Object(field.args.clone()),
                outcome: outcome.to_owned(),
                request: request_no,
                at: Instant::now(),
            });
        }
    };
    let token = headers
        .get("x-shopify-access-token")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !w.token_is_valid(&shop, token) {
        record(&mut w, "unauthorized");
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({
                "errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"
            })),
        )
            .into_response();
    }
    let mut ops = Vec::with_capacity(fields.len());
    for field in &fields {
        match operations().iter().find(|op| op.field == field.name) {
            Some(op) => ops.push(op),
            None => {
                record(&mut w, "unknown field");
                let message = format!("Field '{}' doesn't exist on type 'QueryRoot'", field.name);
                return Json(json!({"errors": error(message, "undefinedField")})).into_response();
            }
        }
    }
    let cost: f64 = ops.iter().map(|op| op.cost).sum();
    let (max, rate) = (w.bucket_max, w.restore_rate);
    let status = |available: f64| {
        json!({
            "maximumAvailable": max,
            "currentlyAvailable": available,
            "restoreRate": rate,
        })
    };
    let available = match w.charge(&shop, cost) {
        Ok(available) => available,
        Err(available) => {
            record(&mut w, "throttled");
            return Json(json!({
                "errors": [{
                    "message": "Throttled",
                    "extensions": {
                        "code": "THROTTLED",
                        "documentation": "https://shopify.dev/api/usage/rate-limits"
                    }
                }],
                "extensions": {"cost": {
                    "requestedQueryCost": cost,
                    "actualQueryCost": null,
                    "throttleStatus": status(available),
                }}
            }))
            .into_response();
        }
    };
    let mut data = Map::new();
    let mut errors = Vec::new();
    for (field, op) in fields.iter().zip(ops) {
        match (op.run)(&mut w, &shop, &field.args) {
            Ok(value) => {
                data.insert(field.key.clone(), value);
            }
            Err(Value::Array(list)) => {
                data.insert(field.key.clone(), Value::Null);
                errors.extend(list);
            }
            Err(other) => {
                data.insert(field.key.clone(), Value::Null);
                errors.push(other);
            }
        }
    }
    if let Some(status) = lose_answer {
        record(&mut w, &format!("done, answer lost ({status})"));
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
        return (status, Json(json!({"errors": "Bad Gateway"}))).into_response();
    }
    record(&mut w, if errors.is_empty() { "ok" } else { "error" });
    let mut body = json!({
        "data": data,
        "extensions": {"cost": {
            "requestedQueryCost": cost,
            "actualQueryCost": cost,
            "throttleStatus": status(available),
        }}
    });
    if !errors.is_empty() {
        body["errors"] = Value::Array(errors);
    }
    Json(body).into_response()
}

/// Answers for a queued fault (and records it), or `None` to go on normally.
pub(super) async fn apply_fault(
    world: &Arc<Mutex<World>>,
    fault: Option<Fault>,
    shop: &str,
    operation: &str,
    variables: &Value,
) -> Option<Response> {
    let fault = fault?;
    let outcome = match &fault {
        Fault::Status(code) => format!("status {code}"),
        Fault::TooManyRequests { .. } => "status 429".into(),
        Fault::Delay(d) => format!("delayed {} ms", d.as_millis()),
        Fault::LoseAnswer(code) => format!("status {code}"),
    };
    world
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .requests
        .push(Recorded {
            shop: shop.to_owned(),
            operation: operation.to_owned(),
            variables: variables.clone(),
            outcome,
            request: 0,
            at: Instant::now(),
        });
    match fault {
        Fault::Status(code) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            Some((status, Json(json!({"errors": "Internal Server Error"}))).into_response())
        }
        Fault::TooManyRequests { retry_after_secs } => Some(
            (
                StatusCode::TOO_MANY_REQUESTS,
                [("retry-after", format!("{retry_after_secs:.1}"))],
                Json(json!({"errors": "Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service."})),
            )
                .into_response(),
        ),
        Fault::Delay(wait) => {
            tokio::time::sleep(wait).await;
            None
        }
        Fault::LoseAnswer(_) => None,
    }
}
