//! Recommendation tokens: every rendered list carries one, so impressions and clicks reported
//! later can be tied to what was shown, and forged reports for lists we never served refused.
//! `placement.list.issued.nonce.signature`, signed with the app secret for one shop.

use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;

use crate::store::ShopId;

/// Tokens older than this are refused (a page left open for a week is not an impression).
const MAX_AGE_SECS: i64 = 7 * 86_400;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub placement: String,
    pub list: String,
    pub issued: i64,
}

fn mac(secret: &SecretString, shop: ShopId, payload: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.expose_secret().as_bytes())
        .expect("HMAC takes any key");
    mac.update(shop.0.to_string().as_bytes());
    mac.update(b".");
    mac.update(payload.as_bytes());
    hex::encode(&mac.finalize().into_bytes()[..10])
}

pub fn issue(secret: &SecretString, shop: ShopId, placement: &str, list: &str, now: i64) -> String {
    let nonce = hex::encode(rand::random::<[u8; 5]>());
    let payload = format!("{placement}.{list}.{now}.{nonce}");
    let signature = mac(secret, shop, &payload);
    format!("{payload}.{signature}")
}

/// The token's contents if we issued it for this shop and it is not too old.
pub fn verify(secret: &SecretString, shop: ShopId, token: &str, now: i64) -> Option<Token> {
    if token.len() > 200 {
        return None;
    }
    let (payload, signature) = token.rsplit_once('.')?;
    let expected = mac(secret, shop, payload);
    if !bool::from(subtle::ConstantTimeEq::ct_eq(
        expected.as_bytes(),
        signature.as_bytes(),
    )) {
        return None;
    }
    let mut parts = payload.split('.');
    let (placement, list, issued) = (
        parts.next()?,
        parts.next()?,
        parts.next()?.parse::<i64>().ok()?,
    );
    (now - issued <= MAX_AGE_SECS && issued - now <= 300).then(|| Token {
        placement: placement.to_owned(),
        list: list.to_owned(),
        issued,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_tokens_verify_only_for_their_shop_and_age() {
        let secret = SecretString::from("s");
        let token = issue(&secret, ShopId(1), "product", "bought_together", 1_000_000);
        let parsed = verify(&secret, ShopId(1), &token, 1_000_100).expect("valid");
        assert_eq!(
            (parsed.placement.as_str(), parsed.list.as_str()),
            ("product", "bought_together")
        );
        assert!(
            verify(&secret, ShopId(2), &token, 1_000_100).is_none(),
            "other shop"
        );
        assert!(
            verify(&secret, ShopId(1), &token, 1_000_000 + MAX_AGE_SECS + 1).is_none(),
            "too old"
        );
        assert!(
            verify(
                &secret,
                ShopId(1),
                &token.replace("product", "cart"),
                1_000_100
            )
            .is_none(),
            "tampered"
        );
        assert!(
            verify(&SecretString::from("t"), ShopId(1), &token, 1_000_100).is_none(),
            "other secret"
        );
    }
}
