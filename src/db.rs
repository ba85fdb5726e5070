//! The database: the embedded Postgres by default, or `DATABASE_URL`. Migrations run here.

use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, PgPool};

use crate::config::DatabaseSettings;
use crate::pg_embedded::{ClusterOptions, EmbeddedPostgres};

/// Name of the database shoprecs uses inside its embedded cluster.
pub const EMBEDDED_DATABASE: &str = "shoprecs";

/// The migrations in `migrations/`, built into the binary.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Where the pool's connections go, and the embedded server when we run one.
pub struct Database {
    pub pool: PgPool,
    pub embedded: Option<EmbeddedPostgres>,
}

impl Database {
    /// Opens the database named by `DATABASE_URL`, or starts (or attaches to) the embedded one.
    pub async fn open(settings: &DatabaseSettings) -> anyhow::Result<Self> {
        let (options, embedded) = match std::env::var("DATABASE_URL").ok().filter(|u| !u.is_empty())
        {
            Some(url) => {
                let options = PgConnectOptions::from_str(&url)
                    .context("DATABASE_URL is not a valid Postgres URL")?;
                (options, None)
            }
            None if !settings.embedded => {
                anyhow::bail!(
                    "DATABASE_URL is required: database.embedded is false (SHOPRECS_DATABASE__EMBEDDED), \
                     so shoprecs will not start its own Postgres"
                )
            }
            None => {
                let cluster_dir = settings.data_dir.join("postgres");
                let embedded = tokio::task::spawn_blocking(move || {
                    EmbeddedPostgres::start(&cluster_dir, ClusterOptions::default())
                })
                .await
                .context("embedded Postgres start-up panicked")??;
                ensure_database(&embedded, EMBEDDED_DATABASE).await?;
                (embedded.connect_options(EMBEDDED_DATABASE), Some(embedded))
            }
        };
        let pool = pool_options(settings)
            .connect_with(quiet(options))
            .await
            .context(
                "Failed to connect to Postgres (is DATABASE_URL right and the server running?)",
            )?;
        Ok(Self { pool, embedded })
    }

    /// Closes the pool and stops the embedded server if this process started it.
    pub async fn close(self) {
        self.pool.close().await;
        if let Some(embedded) = self.embedded {
            let _ = tokio::task::spawn_blocking(move || embedded.stop()).await;
        }
    }
}

/// Pool settings shared by the server and tests.
pub fn pool_options(settings: &DatabaseSettings) -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(settings.max_connections)
        .acquire_timeout(Duration::from_secs(settings.acquire_timeout_secs))
}

/// Statement logging off: bodies and ids are not for the log.
pub fn quiet(options: PgConnectOptions) -> PgConnectOptions {
    options.log_statements(log::LevelFilter::Off)
}

/// Creates `database` in the embedded cluster if it does not exist yet.
pub async fn ensure_database(embedded: &EmbeddedPostgres, database: &str) -> anyhow::Result<()> {
    let mut conn = sqlx::PgConnection::connect_with(&embedded.connect_options("postgres"))
        .await
        .context("Failed to connect to the embedded Postgres")?;
    let exists: bool =
        sqlx::query_scalar("select exists(select 1 from pg_database where datname = $1)")
            .bind(database)
            .fetch_one(&mut conn)
            .await?;
    if !exists {
        sqlx::query(&format!("create database \"{database}\""))
            .execute(&mut conn)
            .await
            .with_context(|| format!("Failed to create database {database}"))?;
    }
    conn.close().await?;
    Ok(())
}

/// Applies pending migrations.
pub async fn migrate(pool: &PgPool) -> anyhow::Result<()> {
    MIGRATOR
        .run(pool)
        .await
        .context("Failed to apply database migrations")
}
