//! The OAuth `state` nonce between `GET /auth` and the callback: random, carried in a cookie
//! signed with the app secret and bound to the shop and an expiry (`SameSite=Lax`, so the
//! browser sends it on Shopify's top-level redirect back; `HttpOnly`; `Path=/auth`). The
//! callback also spends it in the database (`store::install::spend_state`): single use.

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

use crate::shopify::ShopDomain;

pub const COOKIE: &str = "shoprecs_oauth_state";
/// How long a merchant has to approve the app on Shopify's page.
pub const LIFETIME_SECS: i64 = 600;

/// Why the callback's state was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum StateError {
    #[error("no install was started from this browser (the state cookie is missing)")]
    Missing,
    #[error("the state does not match the install started from this browser")]
    Mismatch,
    #[error("the install was started too long ago; start again")]
    Expired,
}

/// A new nonce for `shop`: `(nonce, cookie value)`.
pub fn issue(secret: &SecretString, shop: &ShopDomain, now: DateTime<Utc>) -> (String, String) {
    let nonce = hex::encode(rand::random::<[u8; 32]>());
    let expires = now.timestamp() + LIFETIME_SECS;
    let mac = mac(secret, shop, &nonce, expires);
    let value = format!("{nonce}.{expires}.{mac}");
    (nonce, value)
}

/// `Set-Cookie` for a fresh nonce.
pub fn set_cookie(value: &str, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{COOKIE}={value}; Max-Age={LIFETIME_SECS}; Path=/auth; HttpOnly; SameSite=Lax{secure}")
}

/// `Set-Cookie` that removes the nonce once used (or refused).
pub fn clear_cookie(secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{COOKIE}=; Max-Age=0; Path=/auth; HttpOnly; SameSite=Lax{secure}")
}

fn mac(secret: &SecretString, shop: &ShopDomain, nonce: &str, expires: i64) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.expose_secret().as_bytes())
        .expect("HMAC accepts any key length");
    mac.update(format!("shoprecs-oauth-state\n{shop}\n{nonce}\n{expires}").as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// A nonce that checked out: spend it with its hash before it expires.
#[derive(Debug)]
pub struct Checked {
    pub nonce_hash: Vec<u8>,
    pub expires_at: DateTime<Utc>,
}

/// Checks the cookie against the callback's `state` and shop: signed by one of `secrets` for
/// this shop, not expired, and the same nonce.
pub fn check<'a>(
    cookie: Option<&str>,
    state: &str,
    shop: &ShopDomain,
    secrets: impl IntoIterator<Item = &'a SecretString>,
    now: DateTime<Utc>,
) -> Result<Checked, StateError> {
    let cookie = cookie.ok_or(StateError::Missing)?;
    let mut parts = cookie.splitn(3, '.');
    let (Some(nonce), Some(expires), Some(signature)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(StateError::Mismatch);
    };
    let expires: i64 = expires.parse().map_err(|_| StateError::Mismatch)?;
    let signed = secrets.into_iter().any(|secret| {
        let expected = mac(secret, shop, nonce, expires);
        bool::from(subtle::ConstantTimeEq::ct_eq(
            expected.as_bytes(),
            signature.as_bytes(),
        ))
    });
    if !signed
        || !bool::from(subtle::ConstantTimeEq::ct_eq(
            nonce.as_bytes(),
            state.as_bytes(),
        ))
    {
        return Err(StateError::Mismatch);
    }
    if now.timestamp() > expires {
        return Err(StateError::Expired);
    }
    Ok(Checked {
        nonce_hash: Sha256::digest(nonce.as_bytes()).to_vec(),
        expires_at: DateTime::from_timestamp(expires, 0).unwrap_or(now),
    })
}

/// The cookie's value from a `Cookie` header.
pub fn read(headers: &axum::http::HeaderMap) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shop(name: &str) -> ShopDomain {
        ShopDomain::parse(name).expect("valid")
    }

    #[test]
    fn a_nonce_checks_only_for_its_shop_its_state_and_in_time() {
        let secret = SecretString::from("s");
        let now = DateTime::from_timestamp(1_800_000_000, 0).expect("time");
        let a = shop("a.myshopify.com");
        let (nonce, cookie) = issue(&secret, &a, now);
        assert!(check(Some(&cookie), &nonce, &a, [&secret], now).is_ok());
        let b = shop("b.myshopify.com");
        assert_eq!(
            check(Some(&cookie), &nonce, &b, [&secret], now).err(),
            Some(StateError::Mismatch)
        );
        assert_eq!(
            check(Some(&cookie), "other", &a, [&secret], now).err(),
            Some(StateError::Mismatch)
        );
        let later = now + chrono::Duration::seconds(LIFETIME_SECS + 1);
        assert_eq!(
            check(Some(&cookie), &nonce, &a, [&secret], later).err(),
            Some(StateError::Expired)
        );
        let forged = cookie.replace(&nonce[..4], "0000");
        assert!(check(Some(&forged), &nonce, &a, [&secret], now).is_err());
        assert_eq!(
            check(None, &nonce, &a, [&secret], now).err(),
            Some(StateError::Missing)
        );
    }
}
