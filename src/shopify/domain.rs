//! `ShopDomain`: a validated `<name>.myshopify.com` domain, the tenant's name on the wire.

use std::fmt;

/// A shop's permanent domain, e.g. `my-store.myshopify.com`, lower-cased.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
pub struct ShopDomain(String);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("`{0}` is not a valid shop domain (expected <name>.myshopify.com)")]
pub struct InvalidShopDomain(pub String);

impl ShopDomain {
    /// Accepts `^[a-zA-Z0-9][a-zA-Z0-9-_]*\.myshopify\.com$`, as Shopify's libraries do.
    pub fn parse(raw: &str) -> Result<Self, InvalidShopDomain> {
        let lower = raw.trim().to_ascii_lowercase();
        let invalid = || InvalidShopDomain(raw.chars().take(100).collect());
        let name = lower.strip_suffix(".myshopify.com").ok_or_else(invalid)?;
        let mut chars = name.chars();
        let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphanumeric());
        let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !first_ok || !rest_ok || name.len() > 100 {
            return Err(invalid());
        }
        Ok(Self(lower))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for ShopDomain {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ShopDomain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_myshopify_domains_and_lowercases() {
        let d = ShopDomain::parse("My-Store_1.myshopify.com").expect("valid");
        assert_eq!(d.as_str(), "my-store_1.myshopify.com");
    }

    #[test]
    fn rejects_everything_else() {
        for bad in [
            "",
            "myshopify.com",
            ".myshopify.com",
            "-shop.myshopify.com",
            "shop.example.com",
            "shop.myshopify.com.evil.com",
            "sho p.myshopify.com",
            "shop/..myshopify.com",
            "https://shop.myshopify.com",
        ] {
            assert!(ShopDomain::parse(bad).is_err(), "{bad} should be rejected");
        }
    }
}
