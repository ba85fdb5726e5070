//! Webhook signatures: HMAC-SHA256 of the raw body with the app secret, standard base64.

use base64::Engine;
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// The base64 signature Shopify sends for `body` under `secret` (used by tests and the demo).
pub fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac =
        HmacSha256::new_from_slice(secret.as_bytes()).expect("HMAC accepts any key length");
    mac.update(body);
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// True when `signature` (base64) is the HMAC of `body` under any of `secrets`.
/// The comparison is constant-time; a signature that is not base64 simply fails.
pub fn verify<'a>(
    secrets: impl IntoIterator<Item = &'a SecretString>,
    body: &[u8],
    signature: &str,
) -> bool {
    let Ok(expected) = base64::engine::general_purpose::STANDARD.decode(signature.trim()) else {
        return false;
    };
    secrets.into_iter().any(|secret| {
        let Ok(mut mac) = HmacSha256::new_from_slice(secret.expose_secret().as_bytes()) else {
            return false;
        };
        mac.update(body);
        mac.verify_slice(&expected).is_ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shopify_documented_vector() {
        // SHOPIFY.md §1.2: secret `secret`, body {"id":1}.
        assert_eq!(
            sign("secret", br#"{"id":1}"#),
            "A971iWIMgT8Zj9A9eWfikrFj7wQ16/Qwcc4OlRl2PLc="
        );
        let secret = SecretString::from("secret");
        assert!(verify(
            [&secret],
            br#"{"id":1}"#,
            "A971iWIMgT8Zj9A9eWfikrFj7wQ16/Qwcc4OlRl2PLc="
        ));
    }

    #[test]
    fn rejects_tampered_body_wrong_secret_and_garbage() {
        let secret = SecretString::from("secret");
        let good = sign("secret", b"{}");
        assert!(!verify([&secret], b"{ }", &good));
        assert!(!verify([&SecretString::from("other")], b"{}", &good));
        assert!(!verify([&secret], b"{}", "not base64!"));
        assert!(!verify([&secret], b"{}", ""));
    }

    #[test]
    fn previous_secret_is_accepted_during_rotation() {
        let current = SecretString::from("new");
        let previous = SecretString::from("old");
        let sig = sign("old", b"{}");
        assert!(verify([&current, &previous], b"{}", &sig));
        assert!(!verify([&current], b"{}", &sig));
    }
}
