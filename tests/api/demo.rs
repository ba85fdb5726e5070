//! The demo shop has real-looking lifecycle data: customers in every segment, history,
//! engagement series and abandoned checkouts with bundle offers.

use shoprecs::shopify::ShopDomain;
use shoprecs::store::{shops, ShopId};

use crate::helpers::{spawn_app, TestApp};

async fn demo_shop(app: &TestApp) -> ShopId {
    let domain = ShopDomain::parse(shoprecs::demo::DEMO_SHOP).expect("domain");
    let shop = shops::resolve_or_create(&app.pool, &domain)
        .await
        .expect("shop");
    shoprecs::demo::seed_with_lifecycle(&app.pool, shop, &app.state.lifecycle)
        .await
        .expect("seed");
    shop
}

#[tokio::test]
async fn the_demo_shop_has_every_segment_and_abandoned_checkouts() {
    let app = spawn_app().await;
    let shop = demo_shop(&app).await;
    let key = app.api_key_for(shop).await;

    let segments = app.api_json(&key, "/api/v1/segments").await;
    for s in segments["segments"].as_array().expect("segments") {
        assert!(
            s["customers"].as_i64().expect("n") >= 10,
            "every segment has customers: {segments}"
        );
    }
    let vip: i64 = segments["segments"]
        .as_array()
        .expect("segments")
        .iter()
        .map(|s| s["vip"].as_i64().expect("vip"))
        .sum();
    assert!(vip > 0, "{segments}");

    let series = app.api_json(&key, "/api/v1/engagement?days=90").await;
    assert_eq!(series["days"].as_array().map(Vec::len), Some(90));

    // The models are built for the demo shop by a rebuild, then the sweep finds its abandoned
    // checkouts and builds their offers.
    app.state
        .models
        .rebuild(&app.pool, shop)
        .await
        .expect("model");
    let report = shoprecs::abandoned::sweep(
        &app.pool,
        &app.state.models,
        &app.state.settings.checkouts,
        chrono::Utc::now(),
    )
    .await
    .expect("sweep");
    let open = app
        .api_json(&key, "/api/v1/abandoned-checkouts?state=open&limit=50")
        .await;
    let items = open["items"].as_array().expect("items");
    assert!(items.len() >= 10, "{report:?} {open}");
    assert!(
        items.iter().all(|i| !i["offer"]["complement"].is_null()),
        "{open}"
    );
}
