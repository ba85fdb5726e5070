//! Shopify session tokens (a.k.a. ID tokens): JWTs signed HS256 with the app's client secret,
//! issued by App Bridge to the embedded dashboard for one minute (SHOPIFY.md §6).

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use sha2::Sha256;

use crate::shopify::ShopDomain;

/// The claims shoprecs reads; others (`iat`, `jti`, …) are ignored.
#[derive(Debug, Deserialize)]
struct Claims {
    iss: String,
    dest: String,
    exp: i64,
    nbf: i64,
    #[serde(default)]
    sub: Option<String>,
    #[serde(default)]
    sid: Option<String>,
}

/// A session token that verified: the shop it was issued for, and the admin session it
/// belongs to (`sid`, or the user `sub` when a token has no `sid`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedToken {
    pub shop: ShopDomain,
    pub session: String,
}

/// Why a session token was refused (logged, never shown: the answer is the same for all).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InvalidToken {
    #[error("no API key is configured (shopify.api_key), so no session token can be accepted")]
    NoApiKey,
    #[error("malformed token")]
    Malformed,
    #[error("signature does not verify with the app secret")]
    Signature,
    #[error("audience is not this app's API key")]
    Audience,
    #[error("token has expired")]
    Expired,
    #[error("token is not valid yet")]
    NotYetValid,
    #[error("dest is not a shop domain, or iss names another shop")]
    Shop,
}

/// Verifies `token` with any of `secrets` (current first, then the previous one during a
/// rotation): HS256 signature, `aud` = `api_key`, `exp`/`nbf` against `now` with `leeway_secs`,
/// and the shop from `dest` (which `iss` must agree with).
pub fn verify<'a>(
    token: &str,
    secrets: impl IntoIterator<Item = &'a SecretString>,
    api_key: &str,
    leeway_secs: u64,
    now: DateTime<Utc>,
) -> Result<VerifiedToken, InvalidToken> {
    if api_key.is_empty() {
        return Err(InvalidToken::NoApiKey);
    }
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_audience(&[api_key]);
    validation.set_required_spec_claims(&["exp", "nbf", "aud"]);
    // Time is checked below against the application's clock, not the system's.
    validation.validate_exp = false;
    validation.validate_nbf = false;
    let mut outcome = Err(InvalidToken::Signature);
    for secret in secrets {
        let key = DecodingKey::from_secret(secret.expose_secret().as_bytes());
        outcome = jsonwebtoken::decode::<Claims>(token, &key, &validation)
            .map(|data| data.claims)
            .map_err(classify);
        if !matches!(outcome, Err(InvalidToken::Signature)) {
            break;
        }
    }
    let claims = outcome?;
    let leeway = i64::try_from(leeway_secs).unwrap_or(0);
    let now = now.timestamp();
    if claims.exp.saturating_add(leeway) < now {
        return Err(InvalidToken::Expired);
    }
    if claims.nbf.saturating_sub(leeway) > now {
        return Err(InvalidToken::NotYetValid);
    }
    let shop = claims
        .dest
        .strip_prefix("https://")
        .and_then(|host| ShopDomain::parse(host).ok())
        .ok_or(InvalidToken::Shop)?;
    let issuer = claims
        .iss
        .strip_prefix("https://")
        .and_then(|rest| rest.split('/').next())
        .and_then(|host| ShopDomain::parse(host).ok());
    if issuer.as_ref() != Some(&shop) {
        return Err(InvalidToken::Shop);
    }
    let session = claims.sid.or(claims.sub).unwrap_or_default();
    Ok(VerifiedToken { shop, session })
}

fn classify(e: jsonwebtoken::errors::Error) -> InvalidToken {
    use jsonwebtoken::errors::ErrorKind;
    match e.kind() {
        ErrorKind::InvalidSignature => InvalidToken::Signature,
        ErrorKind::InvalidAudience => InvalidToken::Audience,
        _ => InvalidToken::Malformed,
    }
}

/// The CSRF token of an embedded admin session: HMAC-SHA256 of shop and session id with the
/// app secret. Stateless, stable for the admin session, unguessable without the secret.
pub fn embedded_csrf(secret: &SecretString, shop: &ShopDomain, session: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.expose_secret().as_bytes())
        .expect("HMAC accepts keys of any length");
    mac.update(b"shoprecs admin csrf\0");
    mac.update(shop.as_str().as_bytes());
    mac.update(b"\0");
    mac.update(session.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{encode, EncodingKey, Header};
    use serde_json::json;

    const KEY: &str = "api-key";
    const NOW: i64 = 1_800_000_000;

    fn token(secret: &str, claims: serde_json::Value) -> String {
        encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(secret.as_bytes()),
        )
        .expect("encode")
    }

    fn claims(shop: &str) -> serde_json::Value {
        json!({
            "iss": format!("https://{shop}/admin"), "dest": format!("https://{shop}"),
            "aud": KEY, "sub": "42", "exp": NOW + 60, "nbf": NOW - 1, "iat": NOW - 1,
            "jti": "00000000-0000-0000-0000-000000000000", "sid": "session-1"
        })
    }

    fn check(token: &str, secrets: &[SecretString]) -> Result<VerifiedToken, InvalidToken> {
        let now = DateTime::from_timestamp(NOW, 0).expect("time");
        verify(token, secrets, KEY, 10, now)
    }

    #[test]
    fn accepts_a_good_token_with_the_current_or_previous_secret() {
        let t = token("old", claims("a.myshopify.com"));
        let secrets = [SecretString::from("new"), SecretString::from("old")];
        let ok = check(&t, &secrets).expect("valid");
        assert_eq!(ok.shop.as_str(), "a.myshopify.com");
        assert_eq!(ok.session, "session-1");
    }

    #[test]
    fn refuses_bad_tokens_for_the_right_reason() {
        let s = [SecretString::from("s")];
        let with = |f: &dyn Fn(&mut serde_json::Value)| {
            let mut c = claims("a.myshopify.com");
            f(&mut c);
            token("s", c)
        };
        assert_eq!(
            check(&token("x", claims("a.myshopify.com")), &s),
            Err(InvalidToken::Signature)
        );
        assert_eq!(
            check(&with(&|c| c["aud"] = json!("other")), &s),
            Err(InvalidToken::Audience)
        );
        assert_eq!(
            check(&with(&|c| c["exp"] = json!(NOW - 11)), &s),
            Err(InvalidToken::Expired)
        );
        assert!(check(&with(&|c| c["exp"] = json!(NOW - 9)), &s).is_ok());
        assert_eq!(
            check(&with(&|c| c["nbf"] = json!(NOW + 11)), &s),
            Err(InvalidToken::NotYetValid)
        );
        assert_eq!(
            check(&with(&|c| c["dest"] = json!("https://evil.com")), &s),
            Err(InvalidToken::Shop)
        );
        assert_eq!(
            check(
                &with(&|c| c["iss"] = json!("https://b.myshopify.com/admin")),
                &s
            ),
            Err(InvalidToken::Shop)
        );
        assert_eq!(check("not.a.jwt", &s), Err(InvalidToken::Malformed));
        let none = token(
            "s",
            json!({"dest": "https://a.myshopify.com", "aud": KEY, "exp": NOW + 60}),
        );
        assert_eq!(check(&none, &s), Err(InvalidToken::Malformed));
    }

    #[test]
    fn csrf_depends_on_shop_and_session() {
        let s = SecretString::from("s");
        let a = ShopDomain::parse("a.myshopify.com").expect("valid");
        let b = ShopDomain::parse("b.myshopify.com").expect("valid");
        assert_eq!(embedded_csrf(&s, &a, "1"), embedded_csrf(&s, &a, "1"));
        assert_ne!(embedded_csrf(&s, &a, "1"), embedded_csrf(&s, &a, "2"));
        assert_ne!(embedded_csrf(&s, &a, "1"), embedded_csrf(&s, &b, "1"));
    }
}
