//! Post-install step: activate the web pixel (extensions/shoprecs-pixel) with this server's
//! base URL and the shop, as its `shopify.extension.toml` settings declare (`endpoint`: the
//! pixel posts to `<endpoint>/pixel/events`; `shop`: the myshopify domain). Created when the
//! shop has none, otherwise updated, so a changed `app_url` reaches the storefront.

use serde::Deserialize;
use serde_json::json;

use super::webhooks::UserError;
use super::{failure, missing_scopes, StepOutcome};
use crate::admin_api::AdminApiError;
use crate::shop_api::{ConnectError, Connected};

/// What `webPixelCreate` needs (SHOPIFY.md §5).
const SCOPES: &[&str] = &["write_pixels", "read_customer_events"];

const FIND: &str = "query ShoprecsWebPixel { webPixel { id settings } }";

const CREATE: &str = "mutation ShoprecsWebPixelCreate($webPixel: WebPixelInput!) {
  webPixelCreate(webPixel: $webPixel) {
    webPixel { id settings }
    userErrors { code field message }
  }
}";

const UPDATE: &str = "mutation ShoprecsWebPixelUpdate($id: ID!, $webPixel: WebPixelInput!) {
  webPixelUpdate(id: $id, webPixel: $webPixel) {
    webPixel { id settings }
    userErrors { code field message }
  }
}";

#[derive(Deserialize)]
struct Found {
    #[serde(rename = "webPixel")]
    pixel: Option<Pixel>,
}

#[derive(Deserialize)]
struct Pixel {
    id: String,
}

#[derive(Deserialize)]
struct Mutated {
    #[serde(rename = "webPixelCreate", alias = "webPixelUpdate")]
    payload: Option<Payload>,
}

#[derive(Deserialize)]
struct Payload {
    #[serde(rename = "webPixel")]
    pixel: Option<Pixel>,
    #[serde(rename = "userErrors", default)]
    user_errors: Vec<UserError>,
}

/// The settings string `webPixelCreate` takes: JSON, matching the extension's fields.
pub fn settings(app_url: &str, shop: &str) -> String {
    json!({"endpoint": app_url, "shop": shop}).to_string()
}

/// The shop's pixel id, `None` when it has none (Shopify answers that with an error).
async fn find(connected: &Connected) -> Result<Option<String>, ConnectError> {
    match connected.graphql::<Found>(FIND, json!({})).await {
        Ok(found) => Ok(found.pixel.map(|p| p.id)),
        Err(ConnectError::Api(AdminApiError::GraphQl(_))) => Ok(None),
        Err(e) => Err(e),
    }
}

async fn mutate(
    connected: &Connected,
    query: &str,
    variables: serde_json::Value,
) -> Result<Payload, String> {
    let mutated: Mutated = connected
        .graphql(query, variables)
        .await
        .map_err(|e| failure(&e))?;
    mutated
        .payload
        .ok_or_else(|| "Shopify returned no payload".to_owned())
}

pub async fn ensure(connected: &Connected, app_url: &str) -> StepOutcome {
    if let Some(message) = missing_scopes(connected, SCOPES) {
        return StepOutcome::Skipped(message);
    }
    let settings = settings(app_url, connected.domain.as_str());
    let input = json!({"settings": settings});
    let existing = match find(connected).await {
        Ok(existing) => existing,
        Err(e) => return StepOutcome::Failed(failure(&e)),
    };
    let id = match existing {
        Some(id) => id,
        None => {
            let created = match mutate(connected, CREATE, json!({"webPixel": input})).await {
                Ok(created) => created,
                Err(reason) => return StepOutcome::Failed(reason),
            };
            let taken = created
                .user_errors
                .iter()
                .any(|e| e.code.as_deref() == Some("TAKEN"));
            if !taken {
                return match (created.pixel, created.user_errors.first()) {
                    (_, Some(error)) => StepOutcome::Failed(error.message.clone()),
                    (Some(_), None) => {
                        StepOutcome::Done(format!("web pixel created for {app_url}"))
                    }
                    (None, None) => StepOutcome::Failed("Shopify returned no web pixel".into()),
                };
            }
            // Created since we looked (another install run): update that one.
            match find(connected).await {
                Ok(Some(id)) => id,
                Ok(None) => {
                    return StepOutcome::Failed(
                        "Shopify says a web pixel exists but returns none".into(),
                    )
                }
                Err(e) => return StepOutcome::Failed(failure(&e)),
            }
        }
    };
    match mutate(connected, UPDATE, json!({"id": id, "webPixel": input})).await {
        Ok(updated) => match updated.user_errors.first() {
            Some(error) => StepOutcome::Failed(error.message.clone()),
            None => StepOutcome::Done(format!("web pixel updated for {app_url}")),
        },
        Err(reason) => StepOutcome::Failed(reason),
    }
}
