//! `shoprecs events`: manage a shop's event endpoints and send a test event. A running server
//! on the same database picks the events up within `events.poll_interval_secs`.

use anyhow::Context;
use clap::Subcommand;
use secrecy::ExposeSecret;
use sqlx::PgPool;

use crate::config::Secrets;
use crate::outbox::{endpoint, sign};
use crate::shopify::ShopDomain;
use crate::store::{outbox as store, shops, ShopId};

#[derive(Debug, Subcommand)]
pub enum EventsAction {
    /// Add, list or remove the endpoints that receive a shop's events.
    Endpoint {
        #[command(subcommand)]
        action: EndpointAction,
    },
    /// Enqueue a `shoprecs.test` event for every endpoint of the shop that takes it.
    SendTest {
        /// The shop's myshopify.com domain.
        #[arg(long)]
        shop: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum EndpointAction {
    /// Add an endpoint (http or https URL) and print its id and the shop's signing secret.
    Add {
        /// The shop's myshopify.com domain.
        #[arg(long)]
        shop: String,
        /// Where events are posted.
        #[arg(long)]
        url: String,
        /// A topic to receive (repeat for several; none = every topic).
        #[arg(long = "topic")]
        topics: Vec<String>,
    },
    /// List the shop's endpoints.
    List {
        /// The shop's myshopify.com domain.
        #[arg(long)]
        shop: String,
    },
    /// Remove an endpoint and its undelivered events.
    Remove {
        /// The shop's myshopify.com domain.
        #[arg(long)]
        shop: String,
        /// The endpoint's id (see `list`).
        #[arg(long)]
        id: i64,
    },
}

impl EventsAction {
    fn shop(&self) -> &str {
        match self {
            Self::SendTest { shop }
            | Self::Endpoint {
                action:
                    EndpointAction::Add { shop, .. }
                    | EndpointAction::List { shop }
                    | EndpointAction::Remove { shop, .. },
            } => shop,
        }
    }
}

/// Runs the action, returning what to print.
pub async fn run(pool: &PgPool, secrets: &Secrets, action: EventsAction) -> anyhow::Result<String> {
    let domain = ShopDomain::parse(action.shop())?;
    let shop = shops::find(pool, &domain)
        .await?
        .with_context(|| format!("shop {domain} is not known"))?;
    match action {
        EventsAction::Endpoint {
            action: EndpointAction::Add { url, topics, .. },
        } => add(pool, secrets, shop, &domain, &url, &topics).await,
        EventsAction::Endpoint {
            action: EndpointAction::List { .. },
        } => list(pool, shop).await,
        EventsAction::Endpoint {
            action: EndpointAction::Remove { id, .. },
        } => {
            if !store::remove_endpoint(pool, shop, id).await? {
                anyhow::bail!("shop {domain} has no endpoint {id}");
            }
            Ok(format!("removed endpoint {id}"))
        }
        EventsAction::SendTest { .. } => {
            let now = chrono::Utc::now();
            match crate::outbox::send_test(pool, shop, now).await? {
                Some(id) => Ok(format!("enqueued test event {id}")),
                None => anyhow::bail!("shop {domain} has no active endpoint for shoprecs.test"),
            }
        }
    }
}

async fn add(
    pool: &PgPool,
    secrets: &Secrets,
    shop: ShopId,
    domain: &ShopDomain,
    url: &str,
    topics: &[String],
) -> anyhow::Result<String> {
    let url = endpoint::parse_url(url)?;
    let topics = endpoint::parse_topics(topics)?;
    let row = store::add_endpoint(pool, shop, &url, &topics).await?;
    let secret = sign::shop_secret(&secrets.api_secret, domain.as_str());
    Ok(format!(
        "endpoint {} added: {}\nsigning secret for {domain}: {}\n\
         (verify X-Shoprecs-Signature with it; see README, \"Outgoing events\")",
        row.endpoint_id,
        row.url,
        secret.expose_secret()
    ))
}

async fn list(pool: &PgPool, shop: ShopId) -> anyhow::Result<String> {
    let rows = store::list_endpoints(pool, shop).await?;
    if rows.is_empty() {
        return Ok("no endpoints".into());
    }
    let lines: Vec<String> = rows
        .iter()
        .map(|r| {
            let topics = if r.topics.is_empty() {
                "all topics".to_owned()
            } else {
                r.topics.join(",")
            };
            let state = if r.active { "" } else { " (inactive)" };
            format!("{}\t{}\t{topics}{state}", r.endpoint_id, r.url)
        })
        .collect();
    Ok(lines.join("\n"))
}
