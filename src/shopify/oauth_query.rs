//! Admin-query signatures (SHOPIFY.md §6): the OAuth callback (and other admin redirects) carry
//! `hmac` = lowercase hex HMAC-SHA256, with the app secret, of the query without `hmac` and
//! `signature`, keys sorted, each pair URL-encoded as `k=v` (spaces as `%20`, never `+`),
//! joined by `&`. Compared in constant time; the timestamp must be within a window of now.

use std::collections::BTreeMap;

use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Why a signed admin query was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    #[error("the request carries no `hmac`")]
    MissingHmac,
    #[error("the parameter `{0}` appears more than once")]
    Repeated(String),
    #[error("the `hmac` does not verify with the app secret")]
    BadHmac,
    #[error("missing or invalid `timestamp`")]
    BadTimestamp,
    #[error("the request is {0} s away from now; at most {1} s are allowed")]
    Stale(i64, i64),
}

/// A query whose signature and timestamp verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedQuery {
    params: BTreeMap<String, String>,
}

impl VerifiedQuery {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.params.get(key).map(String::as_str)
    }
}

fn encode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

/// The string Shopify signs, from decoded parameters (`hmac` and `signature` left out).
pub fn signed_string<'a>(params: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut pairs: Vec<String> = params
        .into_iter()
        .filter(|(k, _)| *k != "hmac" && *k != "signature")
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect();
    pairs.sort();
    pairs.join("&")
}

/// The hex signature of `params` under `secret` (tests and the fake Admin API sign with it).
pub fn sign<'a>(secret: &str, params: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut mac =
        HmacSha256::new_from_slice(secret.as_bytes()).expect("HMAC accepts any key length");
    mac.update(signed_string(params).as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Verifies `raw_query`'s `hmac` with any of `secrets` (current, then previous) and its
/// `timestamp` against `now` (unix seconds), at most `max_skew_secs` either way.
pub fn verify<'a>(
    secrets: impl IntoIterator<Item = &'a SecretString>,
    raw_query: &str,
    now: i64,
    max_skew_secs: i64,
) -> Result<VerifiedQuery, QueryError> {
    let mut params = BTreeMap::new();
    for (key, value) in form_urlencoded::parse(raw_query.as_bytes()) {
        if params
            .insert(key.clone().into_owned(), value.into_owned())
            .is_some()
        {
            return Err(QueryError::Repeated(key.chars().take(40).collect()));
        }
    }
    let hmac = params.get("hmac").ok_or(QueryError::MissingHmac)?;
    let expected = hex::decode(hmac).map_err(|_| QueryError::BadHmac)?;
    let message = signed_string(params.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let valid = secrets.into_iter().any(|secret| {
        HmacSha256::new_from_slice(secret.expose_secret().as_bytes())
            .map(|mut mac| {
                mac.update(message.as_bytes());
                mac.verify_slice(&expected).is_ok()
            })
            .unwrap_or(false)
    });
    if !valid {
        return Err(QueryError::BadHmac);
    }
    let timestamp: i64 = params
        .get("timestamp")
        .and_then(|t| t.parse().ok())
        .ok_or(QueryError::BadTimestamp)?;
    let skew = now - timestamp;
    if skew.abs() > max_skew_secs {
        return Err(QueryError::Stale(skew, max_skew_secs));
    }
    Ok(VerifiedQuery { params })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SHOPIFY.md §6, recomputed with Python `hmac` and @shopify/shopify-api.
    const VECTOR: &str = "code=0907a61c0c8d55e99db179b68161bc00&host=YS1zaG9wLm15c2hvcGlmeS5jb20vYWRtaW4&shop=a-shop.myshopify.com&state=0.6784241404160823&timestamp=1317327555";
    const VECTOR_HMAC: &str = "fd8b794858421ede20cfbfc20864747c0c972bcff6d0fdc36a92fe745613c95d";

    fn hush() -> SecretString {
        SecretString::from("hush")
    }

    #[test]
    fn the_documented_vector_verifies_in_any_parameter_order() {
        let pairs: Vec<(String, String)> = form_urlencoded::parse(VECTOR.as_bytes())
            .into_owned()
            .collect();
        assert_eq!(
            sign("hush", pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))),
            VECTOR_HMAC
        );
        let shuffled = format!(
            "timestamp=1317327555&hmac={VECTOR_HMAC}&state=0.6784241404160823&shop=a-shop.myshopify.com&code=0907a61c0c8d55e99db179b68161bc00&host=YS1zaG9wLm15c2hvcGlmeS5jb20vYWRtaW4"
        );
        let verified = verify([&hush()], &shuffled, 1317327555, 90).expect("valid");
        assert_eq!(verified.get("shop"), Some("a-shop.myshopify.com"));
        assert_eq!(verified.get("state"), Some("0.6784241404160823"));
    }

    #[test]
    fn the_previous_secret_is_accepted_during_a_rotation() {
        let query = format!("{VECTOR}&hmac={VECTOR_HMAC}");
        let current = SecretString::from("new-secret");
        assert!(verify([&current, &hush()], &query, 1317327555, 90).is_ok());
        assert_eq!(
            verify([&current], &query, 1317327555, 90),
            Err(QueryError::BadHmac)
        );
    }

    #[test]
    fn spaces_are_signed_as_percent_20() {
        assert_eq!(
            signed_string([("b", "x y"), ("a", "1+1"), ("hmac", "ignored")]),
            "a=1%2B1&b=x%20y"
        );
    }

    #[test]
    fn tampering_repetition_staleness_and_missing_hmac_are_refused() {
        let tampered = format!("{VECTOR}&hmac={VECTOR_HMAC}").replace("a-shop", "b-shop");
        assert_eq!(
            verify([&hush()], &tampered, 1317327555, 90),
            Err(QueryError::BadHmac)
        );
        let repeated = format!("{VECTOR}&shop=evil.myshopify.com&hmac={VECTOR_HMAC}");
        assert_eq!(
            verify([&hush()], &repeated, 1317327555, 90),
            Err(QueryError::Repeated("shop".into()))
        );
        let signed = format!("{VECTOR}&hmac={VECTOR_HMAC}");
        assert_eq!(
            verify([&hush()], &signed, 1317327555 + 91, 90),
            Err(QueryError::Stale(91, 90))
        );
        assert_eq!(
            verify([&hush()], &signed, 1317327555 - 91, 90),
            Err(QueryError::Stale(-91, 90))
        );
        assert_eq!(
            verify([&hush()], VECTOR, 1317327555, 90),
            Err(QueryError::MissingHmac)
        );
        let not_hex = format!("{VECTOR}&hmac=zz");
        assert_eq!(
            verify([&hush()], &not_hex, 1317327555, 90),
            Err(QueryError::BadHmac)
        );
    }
}
