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

/// Issues and checks tokens with the app secret. The HMAC key is set up once (its padded
/// blocks hashed) instead of on every widget request.
#[derive(Clone)]
pub struct Signer(Hmac<Sha256>);

impl Signer {
    pub fn new(secret: &SecretString) -> Self {
        Self(
            Hmac::<Sha256>::new_from_slice(secret.expose_secret().as_bytes())
                .expect("HMAC takes any key"),
        )
    }

    /// The first 10 bytes of `HMAC(shop "." payload)`, as hex.
    fn mac(&self, shop: ShopId, payload: &str) -> [u8; 20] {
        let mut mac = self.0.clone();
        mac.update(itoa::Buffer::new().format(shop.0).as_bytes());
        mac.update(b".");
        mac.update(payload.as_bytes());
        let mut hex = [0u8; 20];
        hex::encode_to_slice(&mac.finalize().into_bytes()[..10], &mut hex)
            .expect("20 hex digits for 10 bytes");
        hex
    }

    /// `placement.list.issued.nonce.signature`; the signature's first 12 digits make the
    /// list's short id (`Token::id`).
    pub fn issue(&self, shop: ShopId, placement: &str, list: &str, now: i64) -> String {
        let mut nonce = [0u8; 10];
        hex::encode_to_slice(rand::random::<[u8; 5]>(), &mut nonce).expect("10 hex digits");
        let mut token = String::with_capacity(placement.len() + list.len() + 60);
        for part in [
            placement,
            list,
            itoa::Buffer::new().format(now),
            std::str::from_utf8(&nonce).expect("hex is ASCII"),
        ] {
            token.push_str(part);
            token.push('.');
        }
        let signature = self.mac(shop, &token[..token.len() - 1]);
        token.push_str(std::str::from_utf8(&signature).expect("hex is ASCII"));
        token
    }

    /// The token's contents if we issued it for this shop and it is not too old.
    pub fn verify(&self, shop: ShopId, token: &str, now: i64) -> Option<Token> {
        if token.len() > 200 {
            return None;
        }
        let (payload, signature) = token.rsplit_once('.')?;
        let expected = self.mac(shop, payload);
        if !bool::from(subtle::ConstantTimeEq::ct_eq(
            &expected[..],
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
}

/// A token's short id: the first 12 digits of its signature.
pub fn id(token: &str) -> &str {
    let signature = token.rsplit('.').next().unwrap_or(token);
    signature.get(..12).unwrap_or(signature)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_tokens_verify_only_for_their_shop_and_age() {
        let signer = Signer::new(&SecretString::from("s"));
        let token = signer.issue(ShopId(1), "product", "bought_together", 1_000_000);
        let parsed = signer.verify(ShopId(1), &token, 1_000_100).expect("valid");
        assert_eq!(
            (parsed.placement.as_str(), parsed.list.as_str()),
            ("product", "bought_together")
        );
        assert!(
            signer.verify(ShopId(2), &token, 1_000_100).is_none(),
            "other shop"
        );
        assert!(
            signer
                .verify(ShopId(1), &token, 1_000_000 + MAX_AGE_SECS + 1)
                .is_none(),
            "too old"
        );
        assert!(
            signer
                .verify(ShopId(1), &token.replace("product", "cart"), 1_000_100)
                .is_none(),
            "tampered"
        );
        assert!(
            Signer::new(&SecretString::from("t"))
                .verify(ShopId(1), &token, 1_000_100)
                .is_none(),
            "other secret"
        );
        assert_eq!(id(&token), &token[token.len() - 20..token.len() - 8]);
    }
}
