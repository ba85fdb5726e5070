//! Webhook ingest throughput: signed `orders/create` webhooks accepted durably per second at 32
//! concurrent connections, next to what `pgbench` reaches with a single-row insert of the same
//! size into the same (durable, fsync on) embedded Postgres at the same concurrency.
//!
//! Run: `cargo bench --bench ingest` (BENCH_SECONDS, default 10, sets each phase's length).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::{json, Value};
use shoprecs::app::Application;
use shoprecs::config::{Secrets, Settings};
use shoprecs::db;
use shoprecs::pg_embedded::{find_bin_dir, ClusterOptions, EmbeddedPostgres};
use shoprecs::shopify::webhook_hmac;
use sqlx::postgres::PgPoolOptions;

const CONCURRENCY: usize = 32;
const SECRET: &str = "bench-secret";
const SHOP: &str = "bench.myshopify.com";

fn main() -> anyhow::Result<()> {
    // `cargo bench` passes `--bench`; nothing else to parse.
    let seconds: u64 = std::env::var("BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(run(Duration::from_secs(seconds)))
}

fn order_body(template: &Value, order_id: i64) -> Vec<u8> {
    let mut order = template.clone();
    order["id"] = json!(order_id);
    order["admin_graphql_api_id"] = json!(format!("gid://shopify/Order/{order_id}"));
    order["test"] = json!(false);
    order["cancelled_at"] = Value::Null;
    // 10,000 customers and about a third guests, as in a real shop.
    order["customer"] = if order_id % 3 == 0 {
        Value::Null
    } else {
        json!({"id": 1 + (order_id * 7919) % 10_000})
    };
    let line = template["line_items"][0].clone();
    order["line_items"] = Value::Array(
        (0..5)
            .map(|i| {
                let mut l = line.clone();
                let line_id = order_id * 10 + i;
                l["id"] = json!(line_id);
                l["admin_graphql_api_id"] = json!(format!("gid://shopify/LineItem/{line_id}"));
                l["product_id"] = json!(1000 + (order_id * 7 + i * 13) % 500);
                l
            })
            .collect(),
    );
    serde_json::to_vec(&order).unwrap_or_default()
}

async fn run(phase: Duration) -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("shoprecs-bench-{}", std::process::id()));
    let postgres = tokio::task::spawn_blocking({
        let dir = dir.clone();
        move || EmbeddedPostgres::start(&dir.join("postgres"), ClusterOptions::default())
    })
    .await??;
    db::ensure_database(&postgres, "shoprecs").await?;
    let mut settings = Settings::defaults()?;
    settings.server.port = 0;
    let pool = PgPoolOptions::new()
        .max_connections(settings.database.max_connections)
        .connect_with(postgres.connect_options("shoprecs"))
        .await?;
    db::migrate(&pool).await?;
    let app = Application::build(settings, Secrets::fixed(SECRET), pool.clone()).await?;
    let url = format!("http://127.0.0.1:{}/webhooks", app.port());
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until(async move {
        let _ = stop_rx.await;
    }));

    let template: Value = serde_json::from_str(include_str!(
        "../tests/fixtures/shopify/orders-create.docs-sample.json"
    ))?;
    let body_len = order_body(&template, 1).len();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(CONCURRENCY)
        .build()?;

    // Webhooks. With wrk installed (Debian package `wrk`) the load comes from it, a C client
    // as light as pgbench's; otherwise from an in-process reqwest client, which takes a good
    // share of the 2 cores itself and so understates the server.
    let (webhook_rate, generator) = match which("wrk") {
        Some(wrk) => (wrk_load(&wrk, &dir, &url, &template, phase)?, "wrk"),
        None => (
            reqwest_load(&client, &url, &template, phase).await?,
            "reqwest (install wrk for a lighter client)",
        ),
    };

    // Time until every accepted webhook is applied (the backlog built during the load).
    let drain_start = Instant::now();
    loop {
        let pending: i64 =
            sqlx::query_scalar("select count(*) from webhook_inbox where status = 'pending'")
                .fetch_one(&pool)
                .await?;
        if pending == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let drain = drain_start.elapsed();
    let applied: i64 = sqlx::query_scalar(r#"select count(*) from "order""#)
        .fetch_one(&pool)
        .await?;

    // Latency from acknowledgement to applied, one webhook at a time.
    let mut latencies = Vec::new();
    for i in 0..20 {
        let id = 10_000_000 + i;
        let body = order_body(&template, id);
        let sent = Instant::now();
        client
            .post(&url)
            .header("X-Shopify-Topic", "orders/create")
            .header("X-Shopify-Hmac-Sha256", webhook_hmac::sign(SECRET, &body))
            .header("X-Shopify-Shop-Domain", SHOP)
            .header("X-Shopify-Event-Id", format!("lat-{id}"))
            .body(body)
            .send()
            .await?;
        loop {
            let done: bool =
                sqlx::query_scalar(r#"select exists(select 1 from "order" where order_id = $1)"#)
                    .bind(id)
                    .fetch_one(&pool)
                    .await?;
            if done {
                break;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        latencies.push(sent.elapsed());
    }
    latencies.sort();

    let _ = stop_tx.send(());
    server.await??;

    // pgbench: a single-row insert into the same server at the same concurrency, of the very
    // bytes a webhook carries (one order body, the baseline the target is judged on), and, for
    // comparison with earlier runs, of `repeat('x', n)` of the same length: that string
    // compresses to almost nothing, so it writes far less than a real body does.
    sqlx::query("create table pgbench_ingest (id bigint generated always as identity primary key, shop_id bigint not null, body bytea not null)")
        .execute(&pool)
        .await?;
    pool.close().await;
    // Hex, because pgbench reads `:name` in a script as a variable (JSON has many).
    let body = hex::encode(order_body(&template, 1));
    let same_bytes = format!(
        "insert into pgbench_ingest (shop_id, body) values (1, decode('{body}', 'hex'));\n"
    );
    let same_size = format!(
        "insert into pgbench_ingest (shop_id, body) values (1, convert_to(repeat('x', {body_len}), 'UTF8'));\n"
    );
    let pgbench_tps = pgbench(&dir, "same-bytes", &same_bytes, phase)?;
    let pgbench_x_tps = pgbench(&dir, "same-size", &same_size, phase)?;

    tokio::task::spawn_blocking(move || postgres.stop()).await?;
    let _ = std::fs::remove_dir_all(&dir);

    let pct = |p: usize| {
        latencies[(latencies.len() * p / 100).min(latencies.len() - 1)].as_secs_f64() * 1000.0
    };
    println!("ingest benchmark ({CONCURRENCY} connections, {}s per phase, body {body_len} bytes, fsync on, load from {generator})", phase.as_secs());
    println!("  signed orders/create accepted durably : {webhook_rate:>10.0} /s");
    println!("  pgbench single-row insert, same bytes : {pgbench_tps:>10.0} /s");
    println!(
        "  ratio                                 : {:>10.2}  (target >= 0.50)",
        webhook_rate / pgbench_tps
    );
    println!(
        "  pgbench, repeat('x') of the same size : {pgbench_x_tps:>10.0} /s  (ratio {:.2}; compresses to ~100 B, for comparison with earlier runs)",
        webhook_rate / pgbench_x_tps
    );
    println!(
        "  backlog applied after the load in     : {:>10.2} s ({applied} orders applied)",
        drain.as_secs_f64()
    );
    println!(
        "  ack -> applied latency, idle server   : p50 {:.1} ms, max {:.1} ms (target < 100 ms)",
        pct(50),
        pct(100)
    );
    Ok(())
}

/// Runs one pgbench script (`-M prepared`, so the statement is parsed once per connection)
/// against the bench's server and returns its transactions per second.
fn pgbench(dir: &std::path::Path, name: &str, sql: &str, phase: Duration) -> anyhow::Result<f64> {
    let script = dir.join(format!("{name}.sql"));
    std::fs::write(&script, sql)?;
    let socket = dir.join("postgres").join("run");
    let out = std::process::Command::new(find_bin_dir()?.join("pgbench"))
        .args([
            "-n",
            "-M",
            "prepared",
            "-c",
            &CONCURRENCY.to_string(),
            "-j",
            "2",
            "-T",
            &phase.as_secs().to_string(),
        ])
        .arg("-f")
        .arg(&script)
        .arg("-h")
        .arg(&socket)
        .args(["-U", "shoprecs", "shoprecs"])
        .output()
        .context("run pgbench")?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .find_map(|l| l.strip_prefix("tps = "))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .with_context(|| {
            format!(
                "pgbench {name} output: {text}{}",
                String::from_utf8_lossy(&out.stderr)
            )
        })
}

fn which(program: &str) -> Option<std::path::PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(program))
            .find(|p| p.is_file())
    })
}

/// Signed `orders/create` webhooks from an in-process client (bodies signed before the clock
/// starts, so the client spends its time sending).
async fn reqwest_load(
    client: &reqwest::Client,
    url: &str,
    template: &Value,
    phase: Duration,
) -> anyhow::Result<f64> {
    let prepared: Arc<Vec<(Vec<u8>, String)>> = Arc::new(
        (1..=120_000i64)
            .map(|id| {
                let body = order_body(template, id);
                let signature = webhook_hmac::sign(SECRET, &body);
                (body, signature)
            })
            .collect(),
    );
    let accepted = Arc::new(AtomicU64::new(0));
    let next_id = Arc::new(AtomicU64::new(1));
    let start = Instant::now();
    let deadline = start + phase;
    let mut workers = Vec::new();
    for _ in 0..CONCURRENCY {
        let (client, url, accepted, next_id, prepared) = (
            client.clone(),
            url.to_owned(),
            accepted.clone(),
            next_id.clone(),
            prepared.clone(),
        );
        workers.push(tokio::spawn(async move {
            while Instant::now() < deadline {
                let id = next_id.fetch_add(1, Ordering::Relaxed);
                let Some((body, signature)) = prepared.get(id as usize - 1) else {
                    break;
                };
                let sent = client
                    .post(&url)
                    .header("X-Shopify-Topic", "orders/create")
                    .header("X-Shopify-Hmac-Sha256", signature.as_str())
                    .header("X-Shopify-Shop-Domain", SHOP)
                    .header("X-Shopify-Event-Id", format!("bench-{id}"))
                    .header("X-Shopify-Webhook-Id", format!("wh-{id}"))
                    .body(body.clone())
                    .send()
                    .await;
                if matches!(sent, Ok(r) if r.status().is_success()) {
                    accepted.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    for w in workers {
        w.await?;
    }
    Ok(accepted.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64())
}

/// Signed `orders/create` webhooks from wrk: 2,000 distinct pre-signed orders, cycled, each
/// request with its own event id (so every one is a new delivery to store).
fn wrk_load(
    wrk: &std::path::Path,
    dir: &std::path::Path,
    url: &str,
    template: &Value,
    phase: Duration,
) -> anyhow::Result<f64> {
    use std::io::Write;
    let requests = dir.join("requests.tsv");
    let mut file = std::io::BufWriter::new(std::fs::File::create(&requests)?);
    for id in 1..=2000i64 {
        let body = order_body(template, id);
        writeln!(
            file,
            "{}\t{}",
            webhook_hmac::sign(SECRET, &body),
            String::from_utf8_lossy(&body)
        )?;
    }
    file.flush()?;
    let script = dir.join("ingest.lua");
    std::fs::write(
        &script,
        format!(
            r#"local sigs, bodies, n = {{}}, {{}}, 0
local counter = 0
function setup(thread) n = n + 1; thread:set("tid", n) end
function init(args)
  for line in io.lines("{requests}") do
    local tab = line:find("\t")
    sigs[#sigs + 1] = line:sub(1, tab - 1)
    bodies[#bodies + 1] = line:sub(tab + 1)
  end
end
function request()
  counter = counter + 1
  local i = (counter % #bodies) + 1
  return wrk.format("POST", "/webhooks", {{
    ["Content-Type"] = "application/json",
    ["X-Shopify-Topic"] = "orders/create",
    ["X-Shopify-Hmac-Sha256"] = sigs[i],
    ["X-Shopify-Shop-Domain"] = "{SHOP}",
    ["X-Shopify-Event-Id"] = "wrk-" .. tid .. "-" .. counter,
  }}, bodies[i])
end
"#,
            requests = requests.display()
        ),
    )?;
    let base = url.trim_end_matches("/webhooks");
    let out = std::process::Command::new(wrk)
        .args([
            "-t2",
            &format!("-c{CONCURRENCY}"),
            &format!("-d{}s", phase.as_secs()),
        ])
        .arg("-s")
        .arg(&script)
        .arg(base)
        .output()
        .context("run wrk")?;
    let text = String::from_utf8_lossy(&out.stdout);
    let rate: f64 = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse().ok())
        .with_context(|| format!("wrk output: {text}{}", String::from_utf8_lossy(&out.stderr)))?;
    let total: f64 = text
        .lines()
        .find_map(|l| {
            l.trim()
                .split_once(" requests in ")
                .map(|(n, _)| n.trim().to_owned())
        })
        .and_then(|n| n.parse().ok())
        .unwrap_or(0.0);
    let failed: f64 = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("Non-2xx or 3xx responses:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0.0);
    // Only acknowledged (2xx) deliveries count.
    Ok(if total > 0.0 {
        rate * (total - failed) / total
    } else {
        0.0
    })
}
