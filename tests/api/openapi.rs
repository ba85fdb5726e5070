//! The OpenAPI document of `/api/v1`: served without a key, it documents every route of the
//! router, and the real responses of every endpoint (success and error) validate against it.

use std::collections::BTreeSet;
use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{fixture, order, product, spawn_app, TestApp};

const DOCUMENT: &str = "/api/v1/openapi.json";

/// Every route of `/api/v1` (method, path template). Compared with the document and with the
/// router's source, so a route added to one and not the others fails here.
const ROUTES: &[(&str, &str)] = &[
    ("get", "/api/v1/products/{product_id}/recommendations"),
    ("get", "/api/v1/cart/recommendations"),
    ("get", "/api/v1/customers/{customer_id}/recommendations"),
    ("get", "/api/v1/bestsellers"),
    ("get", "/api/v1/trending"),
    ("get", "/api/v1/rules"),
    ("post", "/api/v1/rules"),
    ("delete", "/api/v1/rules/{rule_id}"),
    ("get", "/api/v1/stats/widgets"),
    ("get", "/api/v1/segments"),
    ("put", "/api/v1/segments/policy"),
    ("get", "/api/v1/segments/{name}/customers"),
    ("get", "/api/v1/customers/{customer_id}"),
    ("get", "/api/v1/customers/{customer_id}/email-block"),
    ("get", "/api/v1/engagement"),
    ("get", "/api/v1/abandoned-checkouts"),
    ("get", "/api/v1/event-endpoints"),
    ("post", "/api/v1/event-endpoints"),
    ("post", "/api/v1/event-endpoints/test"),
    ("delete", "/api/v1/event-endpoints/{endpoint_id}"),
    ("get", "/api/v1/events"),
    ("get", "/api/v1/backfill"),
    ("get", DOCUMENT),
];

const METHODS: &[&str] = &["get", "post", "put", "patch", "delete"];

fn routes() -> BTreeSet<(String, String)> {
    ROUTES
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect()
}

/// The `(method, path)` pairs of the document.
fn documented(doc: &Value) -> BTreeSet<(String, String)> {
    let paths = doc["paths"].as_object().expect("paths");
    paths
        .iter()
        .flat_map(|(path, item)| {
            METHODS
                .iter()
                .filter(|m| item.get(**m).is_some())
                .map(|m| (m.to_string(), path.clone()))
        })
        .collect()
}

/// The `(method, path)` pairs registered in `api::router()`, read from its source:
/// `.route("/path", get(a).post(b))`.
fn routed_in_source() -> BTreeSet<(String, String)> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/src/http/api/mod.rs");
    let source = std::fs::read_to_string(path).expect("read the API router");
    let start = source.find("pub fn router()").expect("api::router()");
    let body = &source[start..];
    let body = &body[..body.find("\n}\n").expect("end of router()")];
    let mut found = BTreeSet::new();
    for route in body.split(".route(").skip(1) {
        let path = route.split('"').nth(1).expect("a literal route path");
        for method in METHODS {
            let call = format!("{method}(");
            let called = route.match_indices(&call).any(|(i, _)| {
                i == 0
                    || !route[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_' || c == ':')
            });
            if called {
                found.insert((method.to_string(), path.to_owned()));
            }
        }
    }
    found
}

async fn fetch_document(app: &TestApp) -> Value {
    let response = app
        .client
        .get(app.url(DOCUMENT))
        .send()
        .await
        .expect("fetch the document");
    assert_eq!(response.status(), 200, "served without a key");
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        content_type.starts_with("application/json"),
        "{content_type}"
    );
    response.json().await.expect("the document is JSON")
}

/// Follows a local `$ref` (`#/components/...`) in the document.
fn resolve<'a>(doc: &'a Value, value: &'a Value) -> &'a Value {
    match value.get("$ref").and_then(Value::as_str) {
        Some(pointer) => {
            let pointer = pointer.strip_prefix('#').expect("a local $ref");
            resolve(doc, doc.pointer(pointer).expect("$ref resolves"))
        }
        None => value,
    }
}

/// The documented response of an operation for a status.
fn documented_response<'a>(doc: &'a Value, method: &str, path: &str, status: u16) -> &'a Value {
    let operation = &doc["paths"][path][method];
    assert!(operation.is_object(), "{method} {path} is not documented");
    let response = operation["responses"]
        .get(status.to_string())
        .unwrap_or_else(|| panic!("{method} {path}: status {status} is not documented"));
    resolve(doc, response)
}

/// A validator for the JSON body of a documented response. Its schema carries the document's
/// components so that `$ref`s into them resolve.
fn validator(doc: &Value, method: &str, path: &str, status: u16) -> jsonschema::Validator {
    let response = documented_response(doc, method, path, status);
    let mut schema = response["content"]["application/json"]["schema"].clone();
    let object = schema
        .as_object_mut()
        .unwrap_or_else(|| panic!("{method} {path} {status}: no JSON schema in {response}"));
    object.insert("components".into(), doc["components"].clone());
    jsonschema::draft202012::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap_or_else(|e| panic!("{method} {path} {status}: invalid schema: {e}"))
}

fn violations(doc: &Value, method: &str, path: &str, status: u16, body: &Value) -> Vec<String> {
    validator(doc, method, path, status)
        .iter_errors(body)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

/// Calls the API and checks the response against the document: a documented status, and a
/// body valid against its schema (none for 204).
struct Checker<'a> {
    app: &'a TestApp,
    doc: &'a Value,
    key: String,
    /// Routes that answered with success.
    succeeded: BTreeSet<(String, String)>,
    /// Error statuses seen.
    errors: BTreeSet<u16>,
}

impl Checker<'_> {
    /// `template` is the documented path, `path` the concrete one (with the query).
    async fn call(
        &mut self,
        method: Method,
        template: &str,
        path: &str,
        body: Option<&str>,
        expected: u16,
    ) -> Value {
        let mut request = self
            .app
            .client
            .request(method.clone(), self.app.url(path))
            .bearer_auth(&self.key);
        if let Some(body) = body {
            request = request
                .header("Content-Type", "application/json")
                .body(body.to_owned());
        }
        let response = request.send().await.expect("api request");
        let status = response.status().as_u16();
        let text = response.text().await.expect("body");
        assert_eq!(status, expected, "{method} {path}: {text}");
        let method = method.as_str().to_lowercase();
        if (200..300).contains(&status) {
            self.succeeded.insert((method.clone(), template.to_owned()));
        } else {
            self.errors.insert(status);
        }
        if status == 204 {
            assert!(text.is_empty(), "{method} {path}: 204 with a body: {text}");
            let documented = documented_response(self.doc, &method, template, status);
            assert!(documented.get("content").is_none(), "{documented}");
            return Value::Null;
        }
        let json: Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{method} {path}: not JSON ({e}): {text}"));
        let errors = violations(self.doc, &method, template, status, &json);
        assert!(
            errors.is_empty(),
            "{method} {path} {status} does not match the document:\n{}\nbody: {json:#}",
            errors.join("\n")
        );
        json
    }

    async fn get(&mut self, template: &str, path: &str) -> Value {
        self.call(Method::GET, template, path, None, 200).await
    }

    /// A success that is not JSON (the e-mail block): status and documented content type.
    async fn get_text(&mut self, template: &str, path: &str, content_type: &str) -> String {
        let response = self
            .app
            .client
            .get(self.app.url(path))
            .bearer_auth(&self.key)
            .send()
            .await
            .expect("api request");
        assert_eq!(response.status(), 200, "{path}");
        let got = response.headers()["content-type"]
            .to_str()
            .expect("type")
            .to_owned();
        assert!(got.starts_with(content_type), "{path}: {got}");
        let documented = documented_response(self.doc, "get", template, 200);
        assert!(
            documented["content"].get(content_type).is_some(),
            "{path}: {documented}"
        );
        self.succeeded.insert(("get".into(), template.to_owned()));
        response.text().await.expect("body")
    }
}

#[tokio::test]
async fn the_document_is_openapi_3_served_without_a_key_and_lists_every_route() {
    let app = spawn_app().await;
    let doc = fetch_document(&app).await;
    let version = doc["openapi"].as_str().unwrap_or_default();
    assert!(version.starts_with("3."), "OpenAPI 3.x, not {version:?}");
    assert!(doc["info"]["title"].is_string() && doc["info"]["version"].is_string());

    assert_eq!(documented(&doc), routes(), "documented routes");
    assert_eq!(routed_in_source(), routes(), "routes of api::router()");

    // Every operation but the document itself needs the bearer key.
    let scheme = &doc["components"]["securitySchemes"]["api_key"];
    assert_eq!(scheme["type"], "http", "{scheme}");
    assert_eq!(scheme["scheme"], "bearer", "{scheme}");
    for (method, path) in ROUTES {
        let operation = &doc["paths"][path][method];
        let security = operation.get("security").unwrap_or(&doc["security"]);
        let needs_key = security
            .as_array()
            .is_some_and(|s| s.iter().any(|r| r.get("api_key").is_some()));
        assert_eq!(needs_key, *path != DOCUMENT, "{method} {path}: {security}");
        if *path == DOCUMENT {
            continue;
        }
        for status in [401, 403] {
            documented_response(&doc, method, path, status);
        }
        // The route exists and refuses a request without a key with the documented error.
        let concrete = path
            .replace("{product_id}", "1")
            .replace("{customer_id}", "1");
        let concrete = concrete
            .replace("{rule_id}", "1")
            .replace("{endpoint_id}", "1");
        let method = Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
        let response = app
            .client
            .request(method.clone(), app.url(&concrete))
            .send()
            .await
            .expect("send");
        assert_eq!(response.status(), 401, "{method} {concrete}");
        let body: Value = response.json().await.expect("json");
        let m = method.as_str().to_lowercase();
        assert_eq!(violations(&doc, &m, path, 401, &body), Vec::<String>::new());
    }

    // Path and query parameters carry their types and ranges.
    let params = |method: &str, path: &str| -> Vec<Value> {
        doc["paths"][path][method]["parameters"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    };
    let param = |method: &str, path: &str, name: &str| -> Value {
        params(method, path)
            .into_iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("{method} {path}: no parameter {name}"))
    };
    for path in [
        "/api/v1/products/{product_id}/recommendations",
        "/api/v1/cart/recommendations",
        "/api/v1/customers/{customer_id}/recommendations",
        "/api/v1/bestsellers",
        "/api/v1/trending",
    ] {
        let limit = param("get", path, "limit");
        assert_eq!(limit["in"], "query");
        assert_eq!(limit["schema"]["minimum"], 1, "{path}: {limit}");
        assert_eq!(limit["schema"]["maximum"], 50, "{path}: {limit}");
    }
    let product_id = param(
        "get",
        "/api/v1/products/{product_id}/recommendations",
        "product_id",
    );
    assert_eq!(product_id["in"], "path");
    assert_eq!(product_id["required"], true);
    assert_eq!(product_id["schema"]["type"], "integer");
    let list = param(
        "get",
        "/api/v1/products/{product_id}/recommendations",
        "list",
    );
    assert_eq!(
        list["schema"]["enum"],
        json!(["bought_together", "also_viewed"])
    );
    let cart = param("get", "/api/v1/cart/recommendations", "product_ids");
    assert_eq!(cart["required"], true);
    assert_eq!(cart["explode"], false, "comma-separated: {cart}");
    for name in ["from", "to"] {
        assert_eq!(
            param("get", "/api/v1/stats/widgets", name)["schema"]["format"],
            "date"
        );
    }
    assert_eq!(
        param("get", "/api/v1/rules", "limit")["schema"]["maximum"],
        500
    );
    param("get", "/api/v1/rules", "after");
    let body = resolve(
        &doc,
        &doc["paths"]["/api/v1/rules"]["post"]["requestBody"]["content"]["application/json"]
            ["schema"],
    );
    assert_eq!(body["required"], json!(["kind", "product_id"]), "{body}");
    assert_eq!(body["additionalProperties"], false, "{body}");
}

async fn catalogue_with_history(app: &TestApp) {
    for (id, title, kind) in [
        (1, "Shampoo", "Hair"),
        (2, "Conditioner", "Hair"),
        (3, "Soap", "Body"),
        (4, "Towel", "Bath"),
    ] {
        app.deliver(
            "products/create",
            &product(id, title, kind, 10),
            &format!("p{id}"),
        )
        .await;
    }
    for (id, customer, items, day) in [
        (100, Some(7), &[1, 2][..], 1),
        (101, Some(8), &[1, 2, 3][..], 2),
        (102, None, &[3, 4][..], 3),
    ] {
        app.deliver(
            "orders/create",
            &order(id, customer, items, day),
            &format!("o{id}"),
        )
        .await;
    }
    app.wait_applied().await;
}

/// A widget shown, clicked and bought from, so the stats have a row.
async fn widget_activity(app: &TestApp) {
    let widget: Value = app
        .proxy(
            Method::GET,
            "/proxy/widget",
            &[
                ("placement", "product"),
                ("product_id", "1"),
                ("format", "json"),
            ],
            Some(42),
        )
        .await
        .json()
        .await
        .expect("widget json");
    let token = widget["token"].as_str().expect("token").to_owned();
    for params in [
        vec![("event", "impression"), ("token", token.as_str())],
        vec![
            ("event", "click"),
            ("token", token.as_str()),
            ("product_id", "3"),
            ("position", "1"),
        ],
    ] {
        let tracked = app
            .proxy(Method::POST, "/proxy/track", &params, Some(42))
            .await;
        assert_eq!(tracked.status(), 204);
    }
    let mut purchase = order(500, Some(42), &[3], 1);
    let now = chrono::Utc::now().to_rfc3339();
    for field in ["created_at", "updated_at", "processed_at"] {
        purchase[field] = json!(now);
    }
    app.deliver("orders/create", &purchase, "o500").await;
    app.wait_applied().await;
}

fn items(list: &Value) -> &Vec<Value> {
    list["items"].as_array().expect("items")
}

#[tokio::test]
async fn real_responses_of_every_endpoint_match_the_document() {
    let app = spawn_app().await;
    let key = app.api_key().await;
    catalogue_with_history(&app).await;
    widget_activity(&app).await;
    let doc = fetch_document(&app).await;
    let mut api = Checker {
        app: &app,
        doc: &doc,
        key,
        succeeded: BTreeSet::new(),
        errors: BTreeSet::new(),
    };

    // Lists, each non-empty so that the item schema is exercised.
    let product = "/api/v1/products/{product_id}/recommendations";
    let mut bought = Value::Null;
    for _ in 0..40 {
        bought = api
            .get(product, "/api/v1/products/1/recommendations?limit=3")
            .await;
        if items(&bought)
            .first()
            .is_some_and(|i| i["reason"]["kind"] == "bought_together")
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(
        bought["items"][0]["reason"]["kind"], "bought_together",
        "{bought}"
    );
    let lists = [
        (
            product,
            "/api/v1/products/1/recommendations?list=also_viewed&limit=1",
        ),
        (
            "/api/v1/cart/recommendations",
            "/api/v1/cart/recommendations?product_ids=1,2",
        ),
        (
            "/api/v1/customers/{customer_id}/recommendations",
            "/api/v1/customers/7/recommendations?limit=4",
        ),
        (
            "/api/v1/bestsellers",
            "/api/v1/bestsellers?product_type=Hair",
        ),
        ("/api/v1/bestsellers", "/api/v1/bestsellers"),
        ("/api/v1/trending", "/api/v1/trending?limit=50"),
    ];
    for (template, path) in lists {
        let list = api.get(template, path).await;
        assert!(!items(&list).is_empty(), "{path}: {list}");
    }

    // Rules: create two, page through them, see a pin on a list, delete one.
    let rules = "/api/v1/rules";
    let pin = api
        .call(
            Method::POST,
            rules,
            rules,
            Some(r#"{"kind": "pin", "product_id": 4, "context_product_id": 1}"#),
            201,
        )
        .await;
    let exclude = api
        .call(
            Method::POST,
            rules,
            rules,
            Some(r#"{"kind": "exclude", "product_id": 3}"#),
            201,
        )
        .await;
    let first = api.get(rules, "/api/v1/rules?limit=1").await;
    assert_eq!(first["next"], pin["rule_id"], "{first}");
    let after = format!("/api/v1/rules?limit=1&after={}", pin["rule_id"]);
    let last = api.get(rules, &after).await;
    assert_eq!(last["rules"][0]["rule_id"], exclude["rule_id"], "{last}");
    assert!(last["next"].is_null(), "{last}");
    let pinned = api.get(product, "/api/v1/products/1/recommendations").await;
    assert_eq!(pinned["items"][0]["reason"]["kind"], "pinned", "{pinned}");
    let rule = "/api/v1/rules/{rule_id}";
    let delete = format!("/api/v1/rules/{}", exclude["rule_id"]);
    api.call(Method::DELETE, rule, &delete, None, 204).await;

    // Stats.
    let stats = api
        .get("/api/v1/stats/widgets", "/api/v1/stats/widgets")
        .await;
    assert!(
        !stats["days"].as_array().expect("days").is_empty(),
        "{stats}"
    );
    let today = chrono::Utc::now().date_naive();
    let period = format!("/api/v1/stats/widgets?from={today}&to={today}");
    api.get("/api/v1/stats/widgets", &period).await;

    // Abandoned checkouts: one, left two hours ago, swept now.
    let checkouts = "/api/v1/abandoned-checkouts";
    let mut checkout = fixture("checkouts-create.docs-sample.json");
    let left = (chrono::Utc::now() - chrono::Duration::hours(2)).to_rfc3339();
    checkout["updated_at"] = json!(left);
    checkout["line_items"][0]["product_id"] = json!(1);
    app.deliver("checkouts/create", &checkout, "co1").await;
    app.wait_applied().await;
    let settings = &app.state.settings.checkouts;
    shoprecs::abandoned::sweep(&app.pool, &app.state.models, settings, chrono::Utc::now())
        .await
        .expect("sweep");
    let open = api
        .get(checkouts, "/api/v1/abandoned-checkouts?state=open")
        .await;
    assert!(!open["items"][0]["offer"]["complement"].is_null(), "{open}");
    api.get(checkouts, "/api/v1/abandoned-checkouts?limit=1&after=1")
        .await;
    // Segments, a customer, the shop's engagement, the e-mail block.
    let segments = api.get("/api/v1/segments", "/api/v1/segments").await;
    assert_eq!(segments["segments"].as_array().map(Vec::len), Some(5));
    let policy = "/api/v1/segments/policy";
    let changed = api
        .call(
            Method::PUT,
            policy,
            policy,
            Some(r#"{"lapse_days": 90}"#),
            200,
        )
        .await;
    assert_eq!(changed["lapse_days"], 90.0);
    api.call(
        Method::PUT,
        policy,
        policy,
        Some(r#"{"lapse_days": -1}"#),
        422,
    )
    .await;
    let members = "/api/v1/segments/{name}/customers";
    let page = api
        .get(members, "/api/v1/segments/new/customers?limit=1")
        .await;
    assert!(
        !page["customers"].as_array().expect("members").is_empty(),
        "{page}"
    );
    api.call(
        Method::GET,
        members,
        "/api/v1/segments/sleepy/customers",
        None,
        404,
    )
    .await;
    let customer = "/api/v1/customers/{customer_id}";
    let seven = api.get(customer, "/api/v1/customers/7").await;
    assert!(
        !seven["history"].as_array().expect("history").is_empty(),
        "{seven}"
    );
    api.call(Method::GET, customer, "/api/v1/customers/424242", None, 404)
        .await;
    shoprecs::lifecycle::snapshot_day(
        &app.pool,
        shoprecs::store::ShopId(app.shop_id().await),
        chrono::Utc::now().date_naive(),
        &app.state.lifecycle,
        chrono::Utc::now(),
    )
    .await
    .expect("snapshot");
    let engagement = api
        .get("/api/v1/engagement", "/api/v1/engagement?days=7")
        .await;
    assert!(
        !engagement["days"].as_array().expect("days").is_empty(),
        "{engagement}"
    );
    let block = api
        .get_text(
            "/api/v1/customers/{customer_id}/email-block",
            "/api/v1/customers/7/email-block",
            "text/html",
        )
        .await;
    assert!(block.contains("<table"));

    // Outgoing events: an endpoint (nothing listens there), a test event, its state.
    let endpoints = "/api/v1/event-endpoints";
    let created = api
        .call(
            Method::POST,
            endpoints,
            endpoints,
            Some(r#"{"url": "http://127.0.0.1:9/hook", "topics": ["shoprecs.test"]}"#),
            201,
        )
        .await;
    let listed = api.get(endpoints, endpoints).await;
    assert_eq!(
        listed["endpoints"][0]["endpoint_id"],
        created["endpoint_id"]
    );
    let test = "/api/v1/event-endpoints/test";
    let sent = api.call(Method::POST, test, test, None, 202).await;
    let events = api.get("/api/v1/events", "/api/v1/events?limit=1").await;
    assert_eq!(
        events["events"][0]["event_id"], sent["event_id"],
        "{events}"
    );
    api.get("/api/v1/events", "/api/v1/events?status=delivered")
        .await;
    let endpoint = "/api/v1/event-endpoints/{endpoint_id}";
    let remove = format!("/api/v1/event-endpoints/{}", created["endpoint_id"]);
    api.call(Method::DELETE, endpoint, &remove, None, 204).await;
    api.call(Method::DELETE, endpoint, &remove, None, 404).await;
    api.call(Method::POST, test, test, None, 422).await;
    api.call(
        Method::GET,
        "/api/v1/events",
        "/api/v1/events?status=lost",
        None,
        422,
    )
    .await;
    api.call(
        Method::POST,
        endpoints,
        endpoints,
        Some(r#"{"url": "ftp://example.com"}"#),
        422,
    )
    .await;

    // Backfill progress: none yet, then one queued.
    let backfill = "/api/v1/backfill";
    api.call(Method::GET, backfill, backfill, None, 404).await;
    shoprecs::backfill::jobs::create(
        &app.pool,
        shoprecs::store::ShopId(app.shop_id().await),
        chrono::Utc::now().date_naive(),
    )
    .await
    .expect("a backfill job");
    let progress = api.get(backfill, backfill).await;
    assert_eq!(progress["phase"], "products", "{progress}");

    // Errors, each against the error schema documented for its status.
    api.call(Method::DELETE, rule, &delete, None, 404).await;
    api.call(
        Method::GET,
        product,
        "/api/v1/products/999/recommendations",
        None,
        404,
    )
    .await;
    let customer = "/api/v1/customers/{customer_id}/recommendations";
    api.call(
        Method::GET,
        customer,
        "/api/v1/customers/x/recommendations",
        None,
        404,
    )
    .await;
    let unprocessable = [
        (product, "/api/v1/products/1/recommendations?limit=51"),
        (product, "/api/v1/products/1/recommendations?list=trending"),
        (
            "/api/v1/cart/recommendations",
            "/api/v1/cart/recommendations?product_ids=x",
        ),
        ("/api/v1/trending", "/api/v1/trending?limit=0"),
        (rules, "/api/v1/rules?limit=501"),
        (checkouts, "/api/v1/abandoned-checkouts?state=lost"),
        ("/api/v1/engagement", "/api/v1/engagement?days=0"),
        (members, "/api/v1/segments/new/customers?limit=0"),
        (checkouts, "/api/v1/abandoned-checkouts?limit=0"),
        (
            "/api/v1/stats/widgets",
            "/api/v1/stats/widgets?from=2026-02-01&to=2026-01-01",
        ),
    ];
    for (template, path) in unprocessable {
        api.call(Method::GET, template, path, None, 422).await;
    }
    for body in [
        r#"{"kind": "boost", "product_id": 1}"#,
        r#"{"kind": "pin"}"#,
    ] {
        api.call(Method::POST, rules, rules, Some(body), 422).await;
    }
    api.call(Method::POST, rules, rules, Some("{"), 400).await;

    // The document is strict: a renamed or an extra field fails validation.
    let valid = pinned["items"][0].clone();
    let mut list = json!({"list": "bought_together", "items": [valid]});
    assert!(violations(&doc, "get", product, 200, &list).is_empty());
    let item = list["items"][0].as_object_mut().expect("item");
    let title = item.remove("title").expect("title");
    item.insert("name".into(), title);
    assert!(!violations(&doc, "get", product, 200, &list).is_empty());
    let mut rule_row = pin.clone();
    rule_row["note"] = json!("");
    assert!(!violations(&doc, "post", rules, 201, &rule_row).is_empty());

    // A shop that uninstalled the app: 403 everywhere.
    app.deliver(
        "app/uninstalled",
        &fixture("app-uninstalled.docs-sample.json"),
        "bye",
    )
    .await;
    app.wait_applied().await;
    api.call(
        Method::GET,
        "/api/v1/trending",
        "/api/v1/trending",
        None,
        403,
    )
    .await;

    let mut expected = routes();
    expected.remove(&("get".to_owned(), DOCUMENT.to_owned()));
    assert_eq!(api.succeeded, expected, "every route answered with success");
    assert_eq!(
        api.errors,
        BTreeSet::from([400, 403, 404, 422]),
        "error statuses covered (401: the other test)"
    );
}
