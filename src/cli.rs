//! The command line: `shoprecs [serve]`, `demo`, `migrate`, `import`, `backfill`, `rebuild`, `api-key`,
//! `admin-token`, `export-customer`, `segments`, `events`, `eval`, `eval-segments`.

use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::app::Application;
use crate::config::{Secrets, Settings};
use crate::db::{self, Database};
use crate::shopify::ShopDomain;
use crate::store::{privacy, shops};

#[derive(Debug, Parser)]
#[command(
    name = "shoprecs",
    version,
    about = "Self-hosted recommendation server for Shopify storefronts"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (the default): webhooks, pixel events, health and metrics.
    ///
    /// Without DATABASE_URL it runs its own Postgres in <data_dir>/postgres.
    Serve {
        /// Port to listen on (overrides server.port and SHOPRECS_PORT; 0 picks a free port).
        #[arg(long)]
        port: Option<u16>,
    },
    /// Run the demo: the server plus a demo shop with six months of history and a storefront
    /// (home, product and cart pages) showing the recommendation widgets.
    Demo {
        /// Port to listen on (overrides server.port and SHOPRECS_PORT).
        #[arg(long)]
        port: Option<u16>,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Print everything stored about one customer as JSON (answers customers/data_request).
    ExportCustomer {
        /// The shop's myshopify.com domain.
        #[arg(long)]
        shop: String,
        /// The Shopify customer id.
        #[arg(long)]
        customer: i64,
    },
    /// Rebuild recommendation models from the database, printing progress, and have a running
    /// server rebuild its copy too.
    Rebuild {
        /// Only this shop (default: every installed shop).
        #[arg(long)]
        shop: Option<String>,
    },
    /// Import a Shopify CSV export (orders or products) through the webhook ingest path.
    /// Idempotent: re-importing an unchanged file changes nothing. Import products first.
    Import {
        #[command(subcommand)]
        what: ImportWhat,
    },
    /// Backfill a shop's products and past orders from Shopify (bulk operations) in the
    /// running server, following its progress; `--status` shows it, `--retry` resumes a failed
    /// one.
    Backfill(crate::cli_backfill::BackfillArgs),
    /// Manage the JSON API's per-shop keys.
    ApiKey {
        #[command(subcommand)]
        action: ApiKeyAction,
    },
    /// Create a login token for a shop's admin dashboard (self-hosted, without Shopify) and
    /// print it: it is shown only this once; only its hash is kept.
    AdminToken {
        /// The shop's myshopify.com domain.
        #[arg(long)]
        shop: String,
        /// A note to tell tokens apart, e.g. the person's name.
        #[arg(long, default_value = "")]
        label: String,
    },
    /// Lifecycle segments: counts (`--shop S`), `export` as CSV, `rebuild` history from orders.
    Segments(crate::cli_segments::SegmentsArgs),
    /// Outgoing events: a shop's endpoints and a test event.
    Events {
        #[command(subcommand)]
        action: crate::cli_events::EventsAction,
    },
    /// Offline accuracy on an orders CSV export: train on past orders, score next purchases
    /// and basket completion against popularity. Needs no database.
    Eval(crate::eval::command::EvalArgs),
    /// Lifecycle segments on a CDNOW-format purchase log: segment sizes at a cut-off and how
    /// well at_risk + lapsed predict no order in the next days, against the naive rule.
    /// Needs no database.
    EvalSegments(crate::segment_eval::command::EvalSegmentsArgs),
}

#[derive(Debug, Subcommand)]
pub enum ImportWhat {
    /// The orders export (Orders → Export → CSV): one row per line item.
    Orders {
        file: std::path::PathBuf,
        /// The shop's myshopify.com domain (created if new).
        #[arg(long)]
        shop: String,
    },
    /// The products export (Products → Export → CSV): one row per variant.
    Products {
        file: std::path::PathBuf,
        /// The shop's myshopify.com domain (created if new).
        #[arg(long)]
        shop: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum ApiKeyAction {
    /// Create a key for a shop and print it (it is shown only this once; only its hash is kept).
    Create {
        /// The shop's myshopify.com domain.
        #[arg(long)]
        shop: String,
        /// A note to tell keys apart, e.g. "klaviyo".
        #[arg(long, default_value = "")]
        label: String,
    },
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Some(Command::Eval(args)) => return crate::eval::command::run(args),
        Some(Command::EvalSegments(args)) => return crate::segment_eval::command::run(args),
        _ => {}
    }
    let mut settings = Settings::load()?;
    if let Some(Command::Serve { port: Some(port) } | Command::Demo { port: Some(port) }) =
        &cli.command
    {
        settings.server.port = *port;
    }
    crate::telemetry::init(&settings.log);
    match cli.command.unwrap_or(Command::Serve { port: None }) {
        Command::Serve { .. } => serve(settings).await,
        Command::Demo { .. } => crate::demo::run(settings).await,
        Command::Migrate => {
            let database = Database::open(&settings.database).await?;
            db::migrate(&database.pool).await?;
            println!("database migrated");
            database.close().await;
            Ok(())
        }
        Command::Import { what } => {
            let database = Database::open(&settings.database).await?;
            let result = match &what {
                ImportWhat::Orders { file, shop } => {
                    crate::importer::import_orders(&database.pool, shop, file).await
                }
                ImportWhat::Products { file, shop } => {
                    crate::importer::import_products(&database.pool, shop, file).await
                }
            };
            database.close().await;
            let label = match what {
                ImportWhat::Orders { .. } => "orders",
                ImportWhat::Products { .. } => "products",
            };
            result?.print(label);
            Ok(())
        }
        Command::Rebuild { shop } => {
            let database = Database::open(&settings.database).await?;
            let result = crate::cli_rebuild::run(&database.pool, &settings, shop.as_deref()).await;
            database.close().await;
            result
        }
        Command::Backfill(args) => {
            let database = Database::open(&settings.database).await?;
            let result = crate::cli_backfill::run(&database.pool, &settings, args).await;
            database.close().await;
            result
        }
        Command::ApiKey {
            action: ApiKeyAction::Create { shop, label },
        } => {
            let domain = ShopDomain::parse(&shop)?;
            let database = Database::open(&settings.database).await?;
            let result = create_api_key(&database, &domain, &label).await;
            database.close().await;
            println!("{}", result?);
            Ok(())
        }
        Command::AdminToken { shop, label } => {
            let domain = ShopDomain::parse(&shop)?;
            let database = Database::open(&settings.database).await?;
            let result = create_admin_token(&database, &domain, &label).await;
            database.close().await;
            println!("{}", result?);
            Ok(())
        }
        Command::ExportCustomer { shop, customer } => {
            let domain = ShopDomain::parse(&shop)?;
            let database = Database::open(&settings.database).await?;
            let result = export_customer(&database, &domain, customer).await;
            database.close().await;
            println!("{}", serde_json::to_string_pretty(&result?)?);
            Ok(())
        }
        Command::Segments(args) => crate::cli_segments::run(&settings, args).await,
        Command::Events { action } => {
            let secrets = Secrets::load(&settings.database.data_dir)?;
            let database = Database::open(&settings.database).await?;
            let result = crate::cli_events::run(&database.pool, &secrets, action).await;
            database.close().await;
            println!("{}", result?);
            Ok(())
        }
        Command::Eval(args) => crate::eval::command::run(args),
        Command::EvalSegments(args) => crate::segment_eval::command::run(args),
    }
}

async fn export_customer(
    database: &Database,
    domain: &ShopDomain,
    customer: i64,
) -> anyhow::Result<serde_json::Value> {
    let shop = shops::find(&database.pool, domain)
        .await?
        .with_context(|| format!("shop {domain} is not known"))?;
    Ok(privacy::export_customer(&database.pool, shop, customer).await?)
}

async fn create_api_key(
    database: &Database,
    domain: &ShopDomain,
    label: &str,
) -> anyhow::Result<String> {
    let shop = shops::find(&database.pool, domain)
        .await?
        .with_context(|| format!("shop {domain} is not known (it appears once Shopify sends a webhook or it installs)"))?;
    Ok(crate::store::api_keys::create(&database.pool, shop, label).await?)
}

async fn create_admin_token(
    database: &Database,
    domain: &ShopDomain,
    label: &str,
) -> anyhow::Result<String> {
    db::migrate(&database.pool).await?;
    let shop = shops::find(&database.pool, domain)
        .await?
        .with_context(|| format!("shop {domain} is not known (it appears once Shopify sends a webhook or it installs, or after `shoprecs import`)"))?;
    Ok(crate::store::admin::create_token(&database.pool, shop, label).await?)
}

async fn serve(settings: Settings) -> anyhow::Result<()> {
    let secrets = Secrets::load(&settings.database.data_dir)?;
    let database = Database::open(&settings.database).await?;
    if let Err(e) = db::migrate(&database.pool).await {
        database.close().await;
        return Err(e);
    }
    let app = match Application::build(settings, secrets, database.pool.clone()).await {
        Ok(app) => app,
        Err(e) => {
            database.close().await;
            return Err(e);
        }
    };
    let addr = app.local_addr();
    tracing::info!(%addr, "shoprecs listening");
    println!("shoprecs listening on http://{addr}  (health: http://{addr}/readyz)");
    let result = app.run_until(shutdown_signal()).await;
    database.close().await;
    result
}

/// SIGINT (Ctrl-C) or SIGTERM.
pub(crate) async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
