//! `shoprecs import`: Shopify CSV exports through the webhook ingest path.

use std::path::PathBuf;
use std::process::{Command, Output};

use crate::helpers::{database_url, spawn_app, TestApp, SHOP};

fn csv(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/csv")
        .join(name)
}

fn import(app: &TestApp, what: &str, file: &std::path::Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_shoprecs"))
        .args(["import", what])
        .arg(file)
        .args(["--shop", SHOP])
        .env("DATABASE_URL", database_url(&app.database))
        .env("RUST_LOG", "error")
        .output()
        .expect("run shoprecs import")
}

fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "import failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[tokio::test]
async fn products_then_orders_import_with_the_expected_counts_and_reimport_changes_nothing() {
    let app = spawn_app().await;
    let products = stdout(&import(&app, "products", &csv("products_small.csv")));
    assert!(
        products.contains(
            "8 read, 8 new or changed, 0 unchanged, 0 rows skipped, 0 lines matched no product"
        ),
        "{products}"
    );
    let orders = stdout(&import(&app, "orders", &csv("orders_small.csv")));
    assert!(
        orders.contains(
            "11 read, 11 new or changed, 0 unchanged, 0 rows skipped, 0 lines matched no product"
        ),
        "{orders}"
    );

    assert_eq!(app.count("select count(*) from product").await, 8);
    assert_eq!(app.count("select count(*) from variant").await, 11);
    assert_eq!(app.count(r#"select count(*) from "order""#).await, 11);
    assert_eq!(app.count("select count(*) from order_line").await, 24);
    assert_eq!(
        app.count("select count(*) from order_line where product_id is null")
            .await,
        0,
        "every line matched by SKU or name"
    );
    assert_eq!(
        app.count(r#"select count(*) from "order" where cancelled_at is not null"#)
            .await,
        1
    );
    assert_eq!(
        app.count(r#"select count(*) from "order" where customer_id is null"#)
            .await,
        2,
        "two guest orders"
    );
    assert_eq!(
        app.count("select count(*) from customer").await,
        4,
        "customers by e-mail, case-insensitive"
    );
    assert_eq!(
        app.count("select count(*) from product where gift_card")
            .await,
        1
    );
    assert_eq!(
        app.count("select count(*) from webhook_inbox where status <> 'applied'")
            .await,
        0
    );
    // The e-mail addresses are used to tell customers apart and then dropped.
    assert_eq!(
        app.count("select count(*) from webhook_inbox where body is not null")
            .await,
        0
    );

    let before = app.count("select count(*) from webhook_inbox").await;
    let again = stdout(&import(&app, "orders", &csv("orders_small.csv")));
    assert!(
        again.contains("11 read, 0 new or changed, 11 unchanged"),
        "{again}"
    );
    let again = stdout(&import(&app, "products", &csv("products_small.csv")));
    assert!(
        again.contains("8 read, 0 new or changed, 8 unchanged"),
        "{again}"
    );
    assert_eq!(
        app.count("select count(*) from webhook_inbox").await,
        before
    );
    assert_eq!(app.count("select count(*) from order_line").await, 24);
}

#[tokio::test]
async fn imported_history_feeds_recommendations_without_gift_cards() {
    let app = spawn_app().await;
    let key = app.api_key().await;
    stdout(&import(&app, "products", &csv("products_small.csv")));
    stdout(&import(&app, "orders", &csv("orders_small.csv")));
    // The import asked the running server to rebuild; it also rebuilds on its own schedule.
    let gift_card: i64 = sqlx::query_scalar("select product_id from product where gift_card")
        .fetch_one(&app.pool)
        .await
        .expect("gift card product");
    let mut best = serde_json::Value::Null;
    for _ in 0..40 {
        best = app.api_json(&key, "/api/v1/bestsellers?limit=20").await;
        if crate::helpers::ids(&best).len() >= 5 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let ids = crate::helpers::ids(&best);
    assert!(ids.len() >= 5, "{best}");
    assert!(
        !ids.contains(&gift_card),
        "gift cards are never recommended"
    );
    assert_eq!(best["items"][0]["reason"]["kind"], "bestseller", "{best}");
}

#[tokio::test]
async fn malformed_files_fail_clearly_and_bad_rows_are_reported_by_line() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let not_orders = dir.path().join("not-orders.csv");
    std::fs::write(&not_orders, "Handle,Title\nmug,Mug\n").expect("write");
    let output = import(&app, "orders", &not_orders);
    assert!(!output.status.success());
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(
        err.contains("not a Shopify orders export") && err.contains("Lineitem quantity"),
        "{err}"
    );

    let original = std::fs::read_to_string(csv("orders_small.csv")).expect("fixture");
    let mut lines: Vec<&str> = original.lines().collect();
    let broken = lines[2].replacen(",1,Pour-Over Dripper", ",lots,Pour-Over Dripper", 1);
    assert_ne!(broken, lines[2], "fixture line 3 is the dripper line");
    lines[2] = &broken;
    let bad_row = dir.path().join("orders.csv");
    std::fs::write(&bad_row, lines.join("\n")).expect("write");
    let report = stdout(&import(&app, "orders", &bad_row));
    assert!(report.contains("line 3:"), "{report}");
    assert!(
        report.contains("1 rows skipped, 23 lines matched no product"),
        "{report}"
    );
    let binary = dir.path().join("garbage.csv");
    std::fs::write(&binary, [0xff, 0xfe, 0x00, 0x12, 0x80]).expect("write");
    let output = import(&app, "products", &binary);
    assert!(!output.status.success(), "garbage is an error, not a panic");
    assert!(!String::from_utf8_lossy(&output.stderr).contains("panicked"));
}
