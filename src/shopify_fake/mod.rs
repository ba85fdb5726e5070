//! A fake Shopify Admin API for tests and the demo: an axum server speaking the request and
//! response shapes of Shopify's docs (SHOPIFY.md §6, §7) for the calls shoprecs makes.
//!
//! - `GET  /{shop}/admin/oauth/authorize` approves at once and redirects to `redirect_uri` with
//!   `code`, `hmac`, `host`, `shop`, `state`, `timestamp`, signed like Shopify (hex HMAC of the
//!   sorted query with the client secret).
//! - `POST /{shop}/admin/oauth/access_token` exchanges an authorization code (single use) or,
//!   with the token-exchange grant, a session token (HS256 JWT with the client secret) for an
//!   offline token `shpat_…`; anything else is a 400 with Shopify's `error` shape.
//! - `POST /{shop}/admin/api/{version}/graphql.json` needs a live `X-Shopify-Access-Token`
//!   (else 401), charges each operation's cost to a leaky bucket per shop and answers with
//!   `extensions.cost` — or, when the bucket is short, HTTP 200 with a `THROTTLED` error.
//!   Root fields (aliases allowed, so mutations can be batched) are read by [`selection`]
//!   and served by the operations listed in `graphql::operations`.
//! - Bulk operations and their JSONL results (`GET /_bulk/{shop}/{file}`): see [`bulk`].
//! - Faults can be queued ([`Fault`]): a status (5xx, 429 with `Retry-After`), a slow answer.
//!
//! The admin base URL to configure is [`FakeShopify::url_template`]:
//! `http://127.0.0.1:<port>/{shop}`.

mod bulk;
mod graphql;
mod install_ops;
mod oauth;
pub mod selection;
mod state;
mod writes;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::routing::{get, post};
use axum::Router;

pub use graphql::Operation;
pub use state::{FakeStore, Fault, Recorded, World};

/// A running fake; dropped, it stops serving.
pub struct FakeShopify {
    addr: SocketAddr,
    world: Arc<Mutex<World>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeShopify {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeShopify {
    /// Starts on a free local port. `client_id` / `client_secret` are the app's credentials
    /// the fake expects (the secret also signs callbacks and verifies session tokens).
    pub async fn start(client_id: &str, client_secret: &str) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let world = Arc::new(Mutex::new(World::new(client_id, client_secret, addr)));
        let app = router(world.clone());
        let task = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::warn!(error = %e, "fake Shopify stopped");
            }
        });
        Ok(Self { addr, world, task })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The value for `admin_api.url`.
    pub fn url_template(&self) -> String {
        format!("http://{}/{{shop}}", self.addr)
    }

    /// The fake's state, to arrange shops and faults and to inspect what was called.
    pub fn world(&self) -> MutexGuard<'_, World> {
        self.world.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A handle usable from other tasks.
    pub fn shared(&self) -> Arc<Mutex<World>> {
        self.world.clone()
    }
}

fn router(world: Arc<Mutex<World>>) -> Router {
    Router::new()
        .route("/{shop}/admin/oauth/authorize", get(oauth::authorize))
        .route(
            "/{shop}/admin/oauth/access_token",
            post(oauth::access_token),
        )
        .route(
            "/{shop}/admin/api/{version}/graphql.json",
            post(graphql::endpoint),
        )
        .route("/_bulk/{shop}/{file}", get(bulk::download))
        .with_state(world)
}
