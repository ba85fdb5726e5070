//! The shop's Shopify connection as the dashboard's health page shows it: the token, the
//! scopes granted against those configured, and how each post-install step last ended.

use chrono::{DateTime, Utc};

use crate::app::AppState;
use crate::store::install::{self, Step};
use crate::store::ShopId;

/// What the page says about the token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenHealth {
    Connected,
    /// Shopify refused the token: the merchant must open the app or install again.
    ReauthRequired,
    Missing,
}

pub struct ConnectionView {
    pub token: TokenHealth,
    pub token_saved_at: Option<DateTime<Utc>>,
    pub reauth_since: Option<DateTime<Utc>>,
    pub scopes: Vec<String>,
    /// Configured in `shopify.scopes` but not granted by the shop.
    pub missing_scopes: Vec<String>,
    pub steps: Vec<Step>,
    /// Where to go to install again (`/auth?shop=…`).
    pub reinstall_url: String,
}

impl ConnectionView {
    pub fn needs_reauth(&self) -> bool {
        self.token == TokenHealth::ReauthRequired
    }

    pub fn connected(&self) -> bool {
        self.token == TokenHealth::Connected
    }
}

/// Whether `granted` covers `scope` (a `write_x` scope includes `read_x`).
fn covers(granted: &[String], scope: &str) -> bool {
    let implied = scope.strip_prefix("read_").map(|r| format!("write_{r}"));
    granted
        .iter()
        .any(|g| g == scope || implied.as_deref() == Some(g.as_str()))
}

fn split(scopes: &str) -> Vec<String> {
    scopes
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

pub async fn load(state: &AppState, shop: ShopId, domain: &str) -> sqlx::Result<ConnectionView> {
    let connection = install::connection(&state.pool, shop).await?;
    let steps = install::steps(&state.pool, shop).await?;
    let (token, token_saved_at, reauth_since, scopes) = match connection {
        Some(c) if c.has_token => {
            let health = if c.reauth_required_at.is_some() {
                TokenHealth::ReauthRequired
            } else {
                TokenHealth::Connected
            };
            (
                health,
                c.token_saved_at,
                c.reauth_required_at,
                split(&c.scopes),
            )
        }
        _ => (TokenHealth::Missing, None, None, Vec::new()),
    };
    let missing_scopes = if token == TokenHealth::Missing {
        Vec::new()
    } else {
        split(&state.settings.shopify.scopes)
            .into_iter()
            .filter(|s| !covers(&scopes, s))
            .collect()
    };
    Ok(ConnectionView {
        token,
        token_saved_at,
        reauth_since,
        scopes,
        missing_scopes,
        steps,
        reinstall_url: format!("/auth?shop={domain}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_scopes_cover_their_read_scopes() {
        let granted = split("write_customers, read_orders");
        assert!(covers(&granted, "read_customers"));
        assert!(covers(&granted, "read_orders"));
        assert!(!covers(&granted, "write_orders"));
        assert!(!covers(&granted, "write_pixels"));
    }
}
