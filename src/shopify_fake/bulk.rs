//! Bulk operations (SHOPIFY.md §7): `bulkOperationRunQuery`, `currentBulkOperation`,
//! `node(id:)` for a `BulkOperation`, and the JSONL result served from
//! `GET /_bulk/{shop}/{file}` in chunks (with `Range: bytes=N-` honoured, as the storage
//! Shopify links to does).
//!
//! Lifecycle: an operation is `CREATED`, becomes `RUNNING` at the first status read and
//! `COMPLETED` at the second (or at once with [`World::finish_bulk_operations`]); the result
//! file is written at completion from the products / orders the test arranged, each nested
//! connection node on its own line with `__parentId`. Options per shop make children come
//! before their parents, fail the next operation, or stall the download after some lines.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures_util::StreamExt;
use serde_json::{json, Map, Value};

use super::state::World;

/// Feature state keys in [`World::data`].
const OPS: &str = "bulk_operations";
const OPTIONS: &str = "bulk_options";

/// Lines per chunk of a served result.
const CHUNK_LINES: usize = 2;

impl World {
    /// Adds a product to the shop's catalogue, in GraphQL shape (`{"id": "gid://shopify/Product/1",
    /// …, "variants": {"edges": [{"node": {…}}]}}`).
    pub fn add_bulk_product(&mut self, shop: &str, product: Value) {
        push(self.data(shop, "products", json!([])), product);
    }

    /// Adds an order, in GraphQL shape (`lineItems: {edges: [{node}]}`).
    pub fn add_bulk_order(&mut self, shop: &str, order: Value) {
        push(self.data(shop, "orders", json!([])), order);
    }

    /// Writes result files with every child line before its parent (as `groupObjects: false`
    /// may).
    pub fn bulk_children_first(&mut self, shop: &str, yes: bool) {
        self.bulk_option(shop, "children_first", json!(yes));
    }

    /// Makes the next operation end `FAILED` with this `errorCode` (e.g. `INTERNAL_SERVER_ERROR`).
    pub fn bulk_fail_next(&mut self, shop: &str, error_code: &str) {
        self.bulk_option(shop, "fail_next", json!(error_code));
    }

    /// Stops sending a result after this many lines (the connection stays open, silent), or
    /// serves it whole again with `None`.
    pub fn bulk_stall_after(&mut self, shop: &str, lines: Option<usize>) {
        self.bulk_option(shop, "stall_after", json!(lines));
    }

    /// Completes every unfinished operation of the shop now (as if Shopify were done), e.g.
    /// before sending `bulk_operations/finish`. Returns their ids.
    pub fn finish_bulk_operations(&mut self, shop: &str) -> Vec<String> {
        let mut done = Vec::new();
        let count = self
            .data(shop, OPS, json!([]))
            .as_array()
            .map_or(0, Vec::len);
        for i in 0..count {
            let status = self.data(shop, OPS, json!([]))[i]["status"].clone();
            if status == "CREATED" || status == "RUNNING" {
                self.complete(shop, i);
                done.push(
                    self.data(shop, OPS, json!([]))[i]["id"]
                        .as_str()
                        .unwrap_or("")
                        .to_owned(),
                );
            }
        }
        done
    }

    /// The shop's operations as Shopify would describe them, oldest first.
    pub fn bulk_operations(&mut self, shop: &str) -> Vec<Value> {
        self.data(shop, OPS, json!([]))
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// `Range` starts of every result download, in order (0 for a whole file).
    pub fn bulk_downloads(&mut self, shop: &str) -> Vec<u64> {
        self.data(shop, "bulk_downloads", json!([]))
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_u64).collect())
            .unwrap_or_default()
    }

    fn bulk_option(&mut self, shop: &str, key: &str, value: Value) {
        if let Some(o) = self.data(shop, OPTIONS, json!({})).as_object_mut() {
            o.insert(key.to_owned(), value);
        }
    }

    fn option(&mut self, shop: &str, key: &str) -> Value {
        self.data(shop, OPTIONS, json!({}))[key].clone()
    }

    /// Ends operation `i`: writes its result file (or fails it, when asked to).
    fn complete(&mut self, shop: &str, i: usize) {
        let fail = self.option(shop, "fail_next");
        let op = self.data(shop, OPS, json!([]))[i].clone();
        let mut op = op;
        if let Some(code) = fail.as_str() {
            self.bulk_option(shop, "fail_next", Value::Null);
            op["status"] = json!("FAILED");
            op["errorCode"] = json!(code);
            op["objectCount"] = json!("0");
        } else {
            let kind = op["kind"].as_str().unwrap_or("products").to_owned();
            let since = op["since"].as_str().unwrap_or("").to_owned();
            let roots: Vec<Value> = self
                .data(shop, &kind, json!([]))
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .filter(|o| {
                    since.is_empty() || o["createdAt"].as_str().unwrap_or("") >= since.as_str()
                })
                .collect();
            let children_first = self.option(shop, "children_first") == json!(true);
            let lines = jsonl(&roots, children_first);
            let n = self.next_id();
            let file = format!("{n}.jsonl");
            op["status"] = json!("COMPLETED");
            op["objectCount"] = json!(lines.len().to_string());
            op["fileSize"] = json!(lines.iter().map(|l| l.len() + 1).sum::<usize>().to_string());
            op["url"] = json!(format!("http://{}/_bulk/{shop}/{file}", self.addr));
            op["completedAt"] = json!(chrono::Utc::now().to_rfc3339());
            let files = self.data(shop, "bulk_files", json!({}));
            if let Some(files) = files.as_object_mut() {
                files.insert(file, json!(lines));
            }
        }
        self.data(shop, OPS, json!([]))[i] = op;
    }

    /// A status read: moves the operation one step on.
    fn advance(&mut self, shop: &str, i: usize) {
        let status = self.data(shop, OPS, json!([]))[i]["status"].clone();
        if status == "CREATED" {
            self.data(shop, OPS, json!([]))[i]["status"] = json!("RUNNING");
        } else if status == "RUNNING" {
            self.complete(shop, i);
        }
    }
}

fn push(list: &mut Value, item: Value) {
    if let Some(list) = list.as_array_mut() {
        list.push(item);
    }
}

/// The JSONL lines of `roots`: each root without its connections, then (or, with
/// `children_first`, before) one line per connection node with `__parentId`.
fn jsonl(roots: &[Value], children_first: bool) -> Vec<String> {
    let mut lines = Vec::new();
    for root in roots {
        let mut parent = root.clone();
        let mut children = Vec::new();
        if let Some(fields) = parent.as_object_mut() {
            let connections: Vec<String> = fields
                .iter()
                .filter(|(_, v)| v.get("edges").is_some_and(Value::is_array))
                .map(|(k, _)| k.clone())
                .collect();
            for key in connections {
                let Some(connection) = fields.remove(&key) else {
                    continue;
                };
                for edge in connection["edges"].as_array().into_iter().flatten() {
                    let mut node = edge["node"].clone();
                    node["__parentId"] = root["id"].clone();
                    children.push(node.to_string());
                }
            }
        }
        if children_first {
            lines.extend(children);
            lines.push(parent.to_string());
        } else {
            lines.push(parent.to_string());
            lines.extend(children);
        }
    }
    lines
}

/// `bulkOperationRunQuery(query:)`.
pub fn run_query(world: &mut World, shop: &str, args: &Map<String, Value>) -> Result<Value, Value> {
    let query = args.get("query").and_then(Value::as_str).unwrap_or("");
    if query.trim().is_empty() {
        return Ok(json!({"bulkOperation": null, "userErrors": [
            {"field": ["query"], "message": "Invalid bulk query: query can't be blank"}
        ]}));
    }
    let busy = world
        .bulk_operations(shop)
        .into_iter()
        .find(|op| op["status"] == "CREATED" || op["status"] == "RUNNING");
    if let Some(op) = busy {
        let id = op["id"].as_str().unwrap_or("");
        return Ok(json!({"bulkOperation": null, "userErrors": [{
            "field": ["query"],
            "message": format!("A bulk query operation for this app and shop is already in progress: {id}."),
        }]}));
    }
    let kind = if query.contains("orders") {
        "orders"
    } else {
        "products"
    };
    let since = query
        .split("created_at:>=")
        .nth(1)
        .map(|rest| {
            rest.chars()
                .take_while(|c| c.is_ascii_digit() || *c == '-')
                .collect::<String>()
        })
        .unwrap_or_default();
    let id = format!("gid://shopify/BulkOperation/{}", 1_000 + world.next_id());
    let op = json!({
        "id": id,
        "status": "CREATED",
        "errorCode": null,
        "createdAt": chrono::Utc::now().to_rfc3339(),
        "completedAt": null,
        "objectCount": "0",
        "fileSize": null,
        "url": null,
        "partialDataUrl": null,
        "type": "QUERY",
        "query": query,
        "kind": kind,
        "since": since,
    });
    push(world.data(shop, OPS, json!([])), op);
    Ok(json!({
        "bulkOperation": {"id": id, "status": "CREATED"},
        "userErrors": [],
    }))
}

/// The public fields of an operation (the fake's own bookkeeping left out).
fn public(op: &Value) -> Value {
    let mut op = op.clone();
    if let Some(o) = op.as_object_mut() {
        o.remove("kind");
        o.remove("since");
        o.insert("__typename".into(), json!("BulkOperation"));
    }
    op
}

/// `currentBulkOperation`: the latest operation (advanced by this read), or null.
pub fn current(world: &mut World, shop: &str, _args: &Map<String, Value>) -> Result<Value, Value> {
    let count = world.bulk_operations(shop).len();
    if count == 0 {
        return Ok(Value::Null);
    }
    world.advance(shop, count - 1);
    Ok(public(&world.bulk_operations(shop)[count - 1]))
}

/// `node(id:)` for a BulkOperation (advanced by this read); null for unknown ids.
pub fn node(world: &mut World, shop: &str, args: &Map<String, Value>) -> Result<Value, Value> {
    let id = args.get("id").and_then(Value::as_str).unwrap_or("");
    let ops = world.bulk_operations(shop);
    let Some(i) = ops.iter().position(|op| op["id"] == id) else {
        return Ok(Value::Null);
    };
    world.advance(shop, i);
    Ok(public(&world.bulk_operations(shop)[i]))
}

/// `GET /_bulk/{shop}/{file}`: the result file, in chunks, from the `Range` start if given.
pub async fn download(
    State(world): State<Arc<Mutex<World>>>,
    Path((shop, file)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let start = headers
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .and_then(|r| r.strip_prefix("bytes="))
        .and_then(|r| r.strip_suffix('-'))
        .and_then(|n| n.parse::<usize>().ok());
    let (lines, stall) = {
        let mut w = world.lock().unwrap_or_else(|e| e.into_inner());
        push(
            w.data(&shop, "bulk_downloads", json!([])),
            json!(start.unwrap_or(0)),
        );
        let stall = w.option(&shop, "stall_after").as_u64().map(|n| n as usize);
        let lines: Option<Vec<String>> = w.data(&shop, "bulk_files", json!({}))[&file]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|l| l.as_str().map(str::to_owned))
                    .collect()
            });
        (lines, stall)
    };
    let Some(lines) = lines else {
        return (
            StatusCode::NOT_FOUND,
            "NoSuchKey: The specified key does not exist.",
        )
            .into_response();
    };
    let whole: String = lines.iter().map(|l| format!("{l}\n")).collect();
    let from = start.unwrap_or(0).min(whole.len());
    // Line boundaries of the part served, to chunk by lines and to stall after some.
    let served_before = whole[..from].matches('\n').count();
    let rest: Vec<String> = whole[from..]
        .split_inclusive('\n')
        .map(str::to_owned)
        .collect();
    let limit = stall.map(|n| n.saturating_sub(served_before));
    let (sent, stalled) = match limit {
        Some(n) if n < rest.len() => (rest[..n].to_vec(), true),
        _ => (rest, false),
    };
    let chunks: Vec<Result<Bytes, std::io::Error>> = sent
        .chunks(CHUNK_LINES)
        .map(|c| Ok(Bytes::from(c.concat())))
        .collect();
    let body = futures_util::stream::iter(chunks);
    let body = if stalled {
        // Silent until the client gives up (or the test ends).
        Body::from_stream(body.chain(futures_util::stream::once(async {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            Ok::<Bytes, std::io::Error>(Bytes::new())
        })))
    } else {
        Body::from_stream(body)
    };
    let status = if start.is_some() {
        StatusCode::PARTIAL_CONTENT
    } else {
        StatusCode::OK
    };
    let mut response = (status, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/jsonl"),
    );
    if start.is_some() {
        if let Ok(value) = format!(
            "bytes {from}-{}/{}",
            whole.len().saturating_sub(1),
            whole.len()
        )
        .parse()
        {
            response.headers_mut().insert(header::CONTENT_RANGE, value);
        }
    }
    response
}
