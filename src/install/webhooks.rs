//! Post-install step: API webhook subscriptions for every topic shoprecs handles, pointing at
//! `<app_url>/webhooks`. Shops covered by `shopify.app.toml` already get these deliveries from
//! the app configuration (which the API does not list), so this matters for custom apps and
//! installs without the app config; the privacy topics can only be set in the app config.

use std::collections::HashSet;

use serde::Deserialize;
use serde_json::json;

use super::{failure, StepOutcome};
use crate::shop_api::Connected;

/// Every topic `shopify.app.toml` subscribes to (`[[webhooks.subscriptions]] topics`), in
/// Shopify's REST spelling. A test keeps the two lists equal.
pub const TOPICS: &[&str] = &[
    "orders/create",
    "orders/updated",
    "orders/paid",
    "orders/cancelled",
    "orders/edited",
    "refunds/create",
    "products/create",
    "products/update",
    "products/delete",
    "customers/create",
    "customers/update",
    "customers/delete",
    "carts/create",
    "carts/update",
    "checkouts/create",
    "checkouts/update",
    "app/uninstalled",
    "bulk_operations/finish",
];

/// The GraphQL enum value of a topic: `orders/create` → `ORDERS_CREATE`.
pub fn enum_value(topic: &str) -> String {
    topic.replace('/', "_").to_ascii_uppercase()
}

/// The scope Shopify requires to subscribe to a topic (carts and checkouts come with orders).
fn required_scope(topic: &str) -> Option<&'static str> {
    match topic.split('/').next() {
        Some("orders" | "refunds" | "carts" | "checkouts") => Some("read_orders"),
        Some("products") => Some("read_products"),
        Some("customers") => Some("read_customers"),
        _ => None,
    }
}

const LIST: &str = "query ShoprecsWebhookSubscriptions {
  webhookSubscriptions(first: 100) {
    edges { node { id topic uri } }
  }
}";

const CREATE: &str = "mutation ShoprecsWebhookSubscriptionCreate($topic: WebhookSubscriptionTopic!, $webhookSubscription: WebhookSubscriptionInput!) {
  webhookSubscriptionCreate(topic: $topic, webhookSubscription: $webhookSubscription) {
    webhookSubscription { id topic }
    userErrors { field message }
  }
}";

#[derive(Deserialize)]
struct Listed {
    #[serde(rename = "webhookSubscriptions")]
    subscriptions: Connection,
}

#[derive(Deserialize)]
struct Connection {
    edges: Vec<Edge>,
}

#[derive(Deserialize)]
struct Edge {
    node: Node,
}

#[derive(Deserialize)]
struct Node {
    topic: String,
    #[serde(default)]
    uri: Option<String>,
}

#[derive(Deserialize)]
struct Created {
    #[serde(rename = "webhookSubscriptionCreate")]
    payload: Option<Payload>,
}

#[derive(Deserialize)]
struct Payload {
    #[serde(rename = "userErrors", default)]
    user_errors: Vec<UserError>,
}

#[derive(Deserialize)]
pub(super) struct UserError {
    #[serde(default)]
    pub code: Option<String>,
    pub message: String,
}

/// Creates the subscriptions that are missing; existing ones (same topic and address) stay.
pub async fn ensure(connected: &Connected, app_url: &str) -> StepOutcome {
    let address = format!("{app_url}/webhooks");
    let listed: Listed = match connected.graphql(LIST, json!({})).await {
        Ok(listed) => listed,
        Err(e) => return StepOutcome::Failed(failure(&e)),
    };
    let present: HashSet<String> = listed
        .subscriptions
        .edges
        .into_iter()
        .filter(|e| e.node.uri.as_deref() == Some(address.as_str()))
        .map(|e| e.node.topic)
        .collect();
    let mut skipped = Vec::new();
    let mut created = 0;
    for topic in TOPICS {
        if let Some(scope) = required_scope(topic).filter(|s| !connected.has_scope(s)) {
            skipped.push(format!("{topic} (needs {scope})"));
            continue;
        }
        let value = enum_value(topic);
        if present.contains(&value) {
            continue;
        }
        let variables = json!({
            "topic": value,
            "webhookSubscription": {"uri": address, "format": "JSON"},
        });
        let answer: Created = match connected.graphql(CREATE, variables).await {
            Ok(answer) => answer,
            Err(e) => return StepOutcome::Failed(format!("{topic}: {}", failure(&e))),
        };
        let errors = answer.payload.map(|p| p.user_errors).unwrap_or_default();
        // Created meanwhile by another install run: that is what we wanted.
        let taken = |e: &UserError| e.message.contains("already been taken");
        if let Some(error) = errors.iter().find(|e| !taken(e)) {
            return StepOutcome::Failed(format!("{topic}: {}", error.message));
        }
        if errors.is_empty() {
            created += 1;
        }
    }
    let subscribed = TOPICS.len() - skipped.len();
    let mut message =
        format!("{subscribed} topics subscribed at {address} ({created} created now)");
    if !skipped.is_empty() {
        message.push_str(&format!(
            "; skipped, scope not granted: {}",
            skipped.join(", ")
        ));
    }
    StepOutcome::Done(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    use figment::providers::Format;

    #[derive(Deserialize)]
    struct AppToml {
        webhooks: Webhooks,
    }

    #[derive(Deserialize)]
    struct Webhooks {
        subscriptions: Vec<Subscription>,
    }

    #[derive(Deserialize)]
    struct Subscription {
        #[serde(default)]
        topics: Vec<String>,
        #[serde(default)]
        compliance_topics: Vec<String>,
        uri: String,
    }

    fn app_toml() -> AppToml {
        figment::Figment::from(figment::providers::Toml::string(include_str!(
            "../../shopify.app.toml"
        )))
        .extract()
        .expect("shopify.app.toml parses")
    }

    #[test]
    fn the_topics_are_those_of_shopify_app_toml() {
        let toml = app_toml();
        let mut configured: Vec<&str> = toml
            .webhooks
            .subscriptions
            .iter()
            .filter(|s| s.uri == "/webhooks")
            .flat_map(|s| s.topics.iter().map(String::as_str))
            .collect();
        configured.sort_unstable();
        let mut ours = TOPICS.to_vec();
        ours.sort_unstable();
        assert_eq!(ours, configured);
        // The privacy topics are app-config only: Shopify refuses them through the API.
        let compliance: Vec<&String> = toml
            .webhooks
            .subscriptions
            .iter()
            .flat_map(|s| &s.compliance_topics)
            .collect();
        assert_eq!(compliance.len(), 3);
        assert!(compliance.iter().all(|t| !TOPICS.contains(&t.as_str())));
    }

    #[test]
    fn topics_become_graphql_enum_values() {
        assert_eq!(enum_value("orders/create"), "ORDERS_CREATE");
        assert_eq!(enum_value("app/uninstalled"), "APP_UNINSTALLED");
        assert_eq!(required_scope("checkouts/update"), Some("read_orders"));
        assert_eq!(required_scope("app/uninstalled"), None);
    }
}
