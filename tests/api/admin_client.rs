//! The Admin API client against the fake Admin API: throttling, retries, revoked tokens,
//! OAuth code and token exchange.

use std::time::{Duration, Instant};

use secrecy::{ExposeSecret, SecretString};
use serde_json::{json, Value};
use shoprecs::admin_api::retry::Backoff;
use shoprecs::admin_api::{AdminApi, AdminApiError, ApiConfig};
use shoprecs::shopify::ShopDomain;
use shoprecs::shopify_fake::{FakeShopify, Fault};

const SHOP: &str = "client-test.myshopify.com";
const SECRET: &str = "fake-client-secret";

fn client(fake: &FakeShopify, timeout: Duration, default_cost: f64) -> AdminApi {
    AdminApi::new(
        ApiConfig {
            url_template: fake.url_template(),
            api_version: "2026-01".into(),
            client_id: "fake-client-id".into(),
            request_timeout: timeout,
            backoff: Backoff {
                base: Duration::from_millis(20),
                max: Duration::from_secs(2),
                max_attempts: 4,
            },
            default_cost,
        },
        SECRET.to_owned().into(),
    )
}

async fn setup(default_cost: f64) -> (FakeShopify, AdminApi, ShopDomain, SecretString) {
    let fake = FakeShopify::start("fake-client-id", SECRET)
        .await
        .expect("fake starts");
    let token: SecretString = fake.world().issue_token(SHOP).into();
    let api = client(&fake, Duration::from_secs(2), default_cost);
    (fake, api, ShopDomain::parse(SHOP).expect("valid"), token)
}

async fn shop_query(
    api: &AdminApi,
    shop: &ShopDomain,
    token: &SecretString,
) -> Result<Value, AdminApiError> {
    api.graphql::<Value>(
        shop,
        token,
        "query { shop { id myshopifyDomain } }",
        json!({}),
    )
    .await
}

#[tokio::test]
async fn a_query_returns_its_data() {
    let (_fake, api, shop, token) = setup(1.0).await;
    let data = shop_query(&api, &shop, &token).await.expect("query works");
    assert_eq!(data["shop"]["myshopifyDomain"], SHOP);
}

#[tokio::test]
async fn a_small_bucket_slows_the_client_down_instead_of_failing() {
    let (fake, api, shop, token) = setup(1.0).await;
    {
        let mut world = fake.world();
        world.bucket_max = 3.0;
        world.restore_rate = 10.0;
    }
    // The first answer tells the client the bucket's size and restore rate.
    shop_query(&api, &shop, &token).await.expect("first call");
    let started = Instant::now();
    let calls = (0..12).map(|_| shop_query(&api, &shop, &token));
    let results = futures_util::future::join_all(calls).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    // 12 points through a 3-point bucket (2 left) refilling 10 per second take about 1 s.
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "{:?}",
        started.elapsed()
    );
    let world = fake.world();
    let served = world
        .calls("shop")
        .iter()
        .filter(|r| r.outcome == "ok")
        .count();
    let throttled = world
        .calls("shop")
        .iter()
        .filter(|r| r.outcome == "throttled")
        .count();
    assert_eq!(served, 13);
    // The client waits for the points before sending, so the server hardly ever has to
    // throttle it (one, from rounding between the two clocks, is tolerated).
    assert!(throttled <= 1, "throttled {throttled} times");
}

#[tokio::test]
async fn throttled_responses_are_waited_out_and_retried() {
    let (fake, api, shop, token) = setup(1.0).await;
    {
        let mut world = fake.world();
        world.bucket_max = 1.0;
        world.restore_rate = 5.0;
    }
    // Empty the bucket behind the client's back: the next call is throttled by the server.
    fake.world().charge(SHOP, 1.0).expect("bucket has a point");
    let data = shop_query(&api, &shop, &token)
        .await
        .expect("succeeds after waiting");
    assert_eq!(data["shop"]["myshopifyDomain"], SHOP);
    let outcomes: Vec<String> = fake
        .world()
        .calls("shop")
        .iter()
        .map(|r| r.outcome.clone())
        .collect();
    assert_eq!(outcomes, ["throttled", "ok"]);
}

#[tokio::test]
async fn server_errors_and_429_are_retried_with_backoff() {
    let (fake, api, shop, token) = setup(1.0).await;
    {
        let mut world = fake.world();
        world.push_fault(Fault::Status(503));
        world.push_fault(Fault::TooManyRequests {
            retry_after_secs: 0.3,
        });
        world.push_fault(Fault::Status(500));
    }
    let started = Instant::now();
    shop_query(&api, &shop, &token)
        .await
        .expect("fourth attempt succeeds");
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "Retry-After was not honoured"
    );
    let outcomes: Vec<String> = fake
        .world()
        .calls("shop")
        .iter()
        .map(|r| r.outcome.clone())
        .collect();
    assert_eq!(outcomes, ["status 503", "status 429", "status 500", "ok"]);
}

#[tokio::test]
async fn retries_stop_at_the_cap_with_a_clear_error() {
    let (fake, api, shop, token) = setup(1.0).await;
    for _ in 0..10 {
        fake.world().push_fault(Fault::Status(502));
    }
    let err = shop_query(&api, &shop, &token).await.expect_err("gives up");
    assert!(
        matches!(err, AdminApiError::Exhausted { attempts: 4, .. }),
        "{err}"
    );
    assert!(err.is_transient());
    assert_eq!(fake.world().calls("shop").len(), 4);
}

#[tokio::test]
async fn a_timeout_is_retried() {
    let fake = FakeShopify::start("fake-client-id", SECRET)
        .await
        .expect("fake starts");
    let token: SecretString = fake.world().issue_token(SHOP).into();
    let api = client(&fake, Duration::from_millis(300), 1.0);
    let shop = ShopDomain::parse(SHOP).expect("valid");
    fake.world()
        .push_fault(Fault::Delay(Duration::from_secs(2)));
    shop_query(&api, &shop, &token)
        .await
        .expect("second attempt succeeds");
    assert_eq!(
        fake.world()
            .calls("shop")
            .iter()
            .filter(|r| r.outcome == "ok")
            .count(),
        1
    );
}

#[tokio::test]
async fn a_revoked_token_fails_at_once_without_retrying() {
    let (fake, api, shop, token) = setup(1.0).await;
    fake.world().revoke_tokens(SHOP);
    let err = shop_query(&api, &shop, &token).await.expect_err("refused");
    assert!(matches!(err, AdminApiError::Unauthorized), "{err}");
    assert!(!err.is_transient());
    assert_eq!(fake.world().calls("shop").len(), 1);
    assert!(!err.to_string().contains(token.expose_secret()));
}

#[tokio::test]
async fn an_unknown_field_is_a_graphql_error() {
    let (_fake, api, shop, token) = setup(1.0).await;
    let err = api
        .graphql::<Value>(&shop, &token, "query { nothingHere { id } }", json!({}))
        .await
        .expect_err("refused");
    assert!(
        matches!(&err, AdminApiError::GraphQl(m) if m.contains("nothingHere")),
        "{err}"
    );
}

#[tokio::test]
async fn an_authorization_code_becomes_an_offline_token_once() {
    let fake = FakeShopify::start("fake-client-id", SECRET)
        .await
        .expect("fake starts");
    let api = client(&fake, Duration::from_secs(2), 1.0);
    let shop = ShopDomain::parse(SHOP).expect("valid");
    let authorize = api.authorize_url(
        &shop,
        "read_orders",
        "http://app.test/auth/callback",
        "nonce-1",
    );
    let response = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
        .get(&authorize)
        .send()
        .await
        .expect("authorize answers");
    assert_eq!(response.status(), 302);
    let location = response.headers()["location"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(
        location.starts_with("http://app.test/auth/callback?"),
        "{location}"
    );
    let url = reqwest::Url::parse(&location).expect("url");
    let code = url
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .expect("code");
    let token = api.exchange_code(&shop, &code).await.expect("exchanged");
    assert!(fake
        .world()
        .token_is_valid(SHOP, token.token.expose_secret()));
    assert_eq!(token.scope, "read_orders");
    let again = api
        .exchange_code(&shop, &code)
        .await
        .expect_err("codes are single use");
    assert!(
        matches!(again, AdminApiError::Refused { status: 400, .. }),
        "{again}"
    );
}
