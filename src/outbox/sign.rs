//! Signatures of outgoing events.
//!
//! Each shop has its own signing secret, derived from the app's API secret as
//! `hex(HMAC-SHA256(api_secret, "shoprecs-events:" + shop_domain))`, so nothing secret is stored
//! in the database and one shop's secret says nothing about another's. Every POST carries
//! `X-Shoprecs-Timestamp: <unix seconds>` and
//! `X-Shoprecs-Signature: v1=<hex HMAC-SHA256(shop_secret, "<timestamp>.<body>")>`.

use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// The version prefix of the signature header's value.
const VERSION: &str = "v1=";

fn mac(key: &[u8]) -> HmacSha256 {
    // HMAC takes keys of any length; this cannot fail.
    HmacSha256::new_from_slice(key).unwrap_or_else(|_| unreachable!("HMAC accepts any key"))
}

/// The shop's signing secret (hex), given to its receivers to verify events.
pub fn shop_secret(api_secret: &SecretString, shop_domain: &str) -> SecretString {
    let mut mac = mac(api_secret.expose_secret().as_bytes());
    mac.update(b"shoprecs-events:");
    mac.update(shop_domain.as_bytes());
    hex::encode(mac.finalize().into_bytes()).into()
}

/// The `X-Shoprecs-Signature` value for `body` sent at `timestamp` (unix seconds).
pub fn signature(shop_secret: &SecretString, timestamp: i64, body: &[u8]) -> String {
    let mut mac = mac(shop_secret.expose_secret().as_bytes());
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("{VERSION}{}", hex::encode(mac.finalize().into_bytes()))
}

/// True when `header` is the signature of `body` at `timestamp` under `shop_secret`; the
/// comparison is constant-time. Receivers should also refuse old timestamps (replays).
pub fn verify(shop_secret: &str, timestamp: &str, body: &[u8], header: &str) -> bool {
    let Some(expected) = header
        .trim()
        .strip_prefix(VERSION)
        .and_then(|h| hex::decode(h).ok())
    else {
        return false;
    };
    let mut mac = mac(shop_secret.as_bytes());
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.verify_slice(&expected).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    // Vectors computed independently with Python's hmac module:
    // hmac.new(b"app-secret", b"shoprecs-events:demo.myshopify.com", sha256).hexdigest(), and
    // hmac.new(<that>.encode(), b'1700000000.{"id":1}', sha256).hexdigest().
    const SHOP_SECRET: &str = "2d860a2cca004f800f20ac876b1083bff8c3b88314f89e189d8725b7a00d8235";
    const SIGNATURE: &str = "v1=bf90c99907df297f5fefbb0f11f6fc4b1026f94343ee44d0df8e5715b90a3c6d";

    #[test]
    fn known_vectors() {
        let secret = shop_secret(&SecretString::from("app-secret"), "demo.myshopify.com");
        assert_eq!(secret.expose_secret(), SHOP_SECRET);
        assert_eq!(signature(&secret, 1_700_000_000, br#"{"id":1}"#), SIGNATURE);
        assert!(verify(SHOP_SECRET, "1700000000", br#"{"id":1}"#, SIGNATURE));
    }

    #[test]
    fn refuses_another_body_timestamp_secret_or_garbage() {
        let body = br#"{"id":1}"#;
        assert!(!verify(
            SHOP_SECRET,
            "1700000000",
            br#"{"id":2}"#,
            SIGNATURE
        ));
        assert!(!verify(SHOP_SECRET, "1700000001", body, SIGNATURE));
        assert!(!verify("other", "1700000000", body, SIGNATURE));
        assert!(!verify(SHOP_SECRET, "1700000000", body, &SIGNATURE[3..]));
        assert!(!verify(SHOP_SECRET, "1700000000", body, "v1=zz"));
        assert!(!verify(SHOP_SECRET, "1700000000", body, ""));
    }

    #[test]
    fn shops_get_different_secrets() {
        let api = SecretString::from("app-secret");
        assert_ne!(
            shop_secret(&api, "a.myshopify.com").expose_secret(),
            shop_secret(&api, "b.myshopify.com").expose_secret()
        );
    }
}
