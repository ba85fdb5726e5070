//! What the database benchmarks share: a throwaway embedded Postgres with the schema.

use std::path::PathBuf;

use shoprecs::db;
use shoprecs::pg_embedded::{ClusterOptions, EmbeddedPostgres};
use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;

/// A migrated database in a fresh cluster under the temp dir; dropped with [`Scratch::close`].
pub struct Scratch {
    pub pool: PgPool,
    postgres: EmbeddedPostgres,
    dir: PathBuf,
}

impl Scratch {
    pub async fn start(name: &str, connections: u32) -> anyhow::Result<Self> {
        let dir = std::env::temp_dir().join(format!("shoprecs-{name}-{}", std::process::id()));
        let postgres = tokio::task::spawn_blocking({
            let dir = dir.clone();
            move || EmbeddedPostgres::start(&dir.join("postgres"), ClusterOptions::default())
        })
        .await??;
        db::ensure_database(&postgres, "shoprecs").await?;
        let pool = PgPoolOptions::new()
            .max_connections(connections)
            .connect_with(postgres.connect_options("shoprecs"))
            .await?;
        db::migrate(&pool).await?;
        Ok(Self {
            pool,
            postgres,
            dir,
        })
    }

    /// Stops the cluster and removes its files.
    pub async fn close(self) {
        self.pool.close().await;
        drop(self.postgres);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
