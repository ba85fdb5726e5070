//! App-proxy signatures (SHOPIFY.md §3): the query string only, keys and values decoded,
//! repeated keys' values joined with commas, `key=value` pairs sorted and concatenated with no
//! separator, HMAC-SHA256 with the app secret, lowercase hex, compared in constant time.

use std::borrow::Cow;
use std::ops::Range;

use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Parameters Shopify sets once; a repeated one is an attempt to confuse the verifier.
const SINGLE_VALUE: &[&str] = &[
    "shop",
    "timestamp",
    "signature",
    "logged_in_customer_id",
    "path_prefix",
];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProxyError {
    #[error("missing app-proxy signature")]
    MissingSignature,
    #[error("the parameter `{0}` appears more than once")]
    Repeated(String),
    #[error("invalid app-proxy signature")]
    BadSignature,
    #[error("missing or invalid timestamp")]
    BadTimestamp,
    #[error("the request is {0} s away from now; at most {1} s are allowed")]
    Stale(i64, i64),
}

/// A verified query: decoded parameters, repeated values joined with commas, in key order.
/// Keys and values live back to back in one string (two allocations per request, not two per
/// parameter: this runs on every storefront widget request).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedQuery {
    text: String,
    /// Byte ranges of each key and its value in `text`, in key order.
    params: Vec<(Range<usize>, Range<usize>)>,
}

impl VerifiedQuery {
    fn new(keys: &[(&str, Cow<'_, str>)]) -> Self {
        let mut text = String::with_capacity(keys.iter().map(|(k, v)| k.len() + v.len()).sum());
        let params = keys
            .iter()
            .map(|(k, v)| {
                let key = text.len()..text.len() + k.len();
                text.push_str(k);
                let value = text.len()..text.len() + v.len();
                text.push_str(v);
                (key, value)
            })
            .collect();
        Self { text, params }
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        let i = self
            .params
            .binary_search_by(|(k, _)| self.text[k.clone()].cmp(key))
            .ok()?;
        Some(&self.text[self.params[i].1.clone()])
    }
}

/// The value of `key` in pairs sorted by key.
fn find<'p, K: AsRef<str>, V>(pairs: &'p [(K, V)], key: &str) -> Option<&'p V> {
    pairs
        .binary_search_by(|(k, _)| k.as_ref().cmp(key))
        .ok()
        .map(|i| &pairs[i].1)
}

/// Decoded `(key, value)` pairs in key order; a repeated key's values stay in query order.
/// Borrowed from the query wherever nothing needed decoding.
fn decoded(raw_query: &str) -> Vec<(Cow<'_, str>, Cow<'_, str>)> {
    let mut params: Vec<_> = form_urlencoded::parse(raw_query.as_bytes()).collect();
    params.sort_by(|a, b| a.0.cmp(&b.0));
    params
}

/// Each key once, its values joined with commas.
fn grouped<'q>(
    params: &'q [(Cow<'q, str>, Cow<'q, str>)],
) -> Result<Vec<(&'q str, Cow<'q, str>)>, ProxyError> {
    let mut keys: Vec<(&str, Cow<str>)> = Vec::with_capacity(params.len());
    for (key, value) in params {
        match keys.last_mut() {
            Some((last, joined)) if *last == key.as_ref() => {
                if SINGLE_VALUE.contains(last) {
                    return Err(ProxyError::Repeated(key.to_string()));
                }
                let joined = joined.to_mut();
                joined.push(',');
                joined.push_str(value);
            }
            _ => keys.push((key.as_ref(), Cow::Borrowed(value.as_ref()))),
        }
    }
    Ok(keys)
}

/// The `key=value` pairs Shopify signs (all but `signature`), in the order of their text.
fn signed_pairs<'k>(keys: &'k [(&'k str, Cow<'k, str>)]) -> Vec<(&'k str, &'k str)> {
    let mut pairs: Vec<(&str, &str)> = keys
        .iter()
        .filter(|(k, _)| *k != "signature")
        .map(|(k, v)| (*k, v.as_ref()))
        .collect();
    // As strings `key=value`, which is not always key order (`a-b=…` sorts before `a=…`).
    let text =
        |(k, v): &(&'k str, &'k str)| k.bytes().chain(std::iter::once(b'=')).chain(v.bytes());
    pairs.sort_by(|a, b| text(a).cmp(text(b)));
    pairs
}

/// The string Shopify signs: sorted `key=value` pairs (without `signature`), no separator.
pub fn signed_string(raw_query: &str) -> Result<String, ProxyError> {
    let params = decoded(raw_query);
    let keys = grouped(&params)?;
    Ok(signed_pairs(&keys)
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect())
}

/// Signs a query string the way Shopify's proxy does (tests and the demo's proxy emulator).
pub fn sign(secret: &str, raw_query: &str) -> Result<String, ProxyError> {
    let mut mac =
        HmacSha256::new_from_slice(secret.as_bytes()).map_err(|_| ProxyError::BadSignature)?;
    mac.update(signed_string(raw_query)?.as_bytes());
    Ok(hex::encode(mac.finalize().into_bytes()))
}

/// Verifies the signature with any of `secrets` and the timestamp against `now` (unix
/// seconds) within `max_age_secs` either way.
pub fn verify<'a>(
    secrets: impl IntoIterator<Item = &'a SecretString>,
    raw_query: &str,
    now: i64,
    max_age_secs: i64,
) -> Result<VerifiedQuery, ProxyError> {
    let params = decoded(raw_query);
    let keys = grouped(&params)?;
    let value = |key: &str| find(&keys, key).map(|v| v.as_ref());
    let signature = value("signature").ok_or(ProxyError::MissingSignature)?;
    let expected = hex::decode(signature).map_err(|_| ProxyError::BadSignature)?;
    let pairs = signed_pairs(&keys);
    let valid = secrets.into_iter().any(|secret| {
        HmacSha256::new_from_slice(secret.expose_secret().as_bytes())
            .map(|mut mac| {
                for (k, v) in &pairs {
                    mac.update(k.as_bytes());
                    mac.update(b"=");
                    mac.update(v.as_bytes());
                }
                mac.verify_slice(&expected).is_ok()
            })
            .unwrap_or(false)
    });
    if !valid {
        return Err(ProxyError::BadSignature);
    }
    let timestamp: i64 = value("timestamp")
        .and_then(|t| t.parse().ok())
        .ok_or(ProxyError::BadTimestamp)?;
    let skew = now - timestamp;
    if skew.abs() > max_age_secs {
        return Err(ProxyError::Stale(skew, max_age_secs));
    }
    Ok(VerifiedQuery::new(&keys))
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str =
        "shop=some-random-store.myshopify.com&path_prefix=%2Fapps%2Fmy-app&timestamp=1466106083";

    #[test]
    fn vector_a() {
        assert_eq!(
            signed_string(A).expect("parses"),
            "path_prefix=/apps/my-appshop=some-random-store.myshopify.comtimestamp=1466106083"
        );
        assert_eq!(
            sign("secret", A).expect("signs"),
            "f5cd7233558b1c50102a6f33c0b63ad1e1072a2fc126cb58d4500f75223cefcd"
        );
        let query = format!(
            "{A}&signature=f5cd7233558b1c50102a6f33c0b63ad1e1072a2fc126cb58d4500f75223cefcd"
        );
        let verified =
            verify([&SecretString::from("secret")], &query, 1466106083, 90).expect("valid");
        assert_eq!(verified.get("path_prefix"), Some("/apps/my-app"));
    }

    #[test]
    fn vector_b_with_nested_and_valueless_keys() {
        let query = format!("{A}&foo=bar&baz[1]&baz[2]=b&baz[c[0]]=whatup&baz[c[1]]=notmuch");
        assert_eq!(
            sign("secret", &query).expect("signs"),
            "bbf3aa60e098f08919a2ea4c64a388414f164e6a117a63b03479ac7aa9464b4f"
        );
    }

    #[test]
    fn vector_c_multi_value() {
        let query = "extra=1&extra=2&shop=some-shop.myshopify.com&logged_in_customer_id=1&path_prefix=%2Fapps%2Fawesome_reviews&timestamp=1317327555";
        assert_eq!(
            sign("hush", query).expect("signs"),
            "5e2178f38200aed046f7944c03c410698b34595edb3968b0e3ab8d4db12f142f"
        );
        let signed = format!(
            "{query}&signature=5e2178f38200aed046f7944c03c410698b34595edb3968b0e3ab8d4db12f142f"
        );
        let verified =
            verify([&SecretString::from("hush")], &signed, 1317327555, 90).expect("valid");
        assert_eq!(verified.get("extra"), Some("1,2"));
    }

    #[test]
    fn tampering_repetition_and_staleness_are_refused() {
        let secret = SecretString::from("secret");
        let sig = sign("secret", A).expect("signs");
        let tampered = format!(
            "{}&signature={sig}",
            A.replace("some-random-store", "other-store")
        );
        assert_eq!(
            verify([&secret], &tampered, 1466106083, 90),
            Err(ProxyError::BadSignature)
        );
        let repeated = format!("{A}&shop=evil.myshopify.com&signature={sig}");
        assert_eq!(
            verify([&secret], &repeated, 1466106083, 90),
            Err(ProxyError::Repeated("shop".into()))
        );
        let ok = format!("{A}&signature={sig}");
        assert_eq!(
            verify([&secret], &ok, 1466106083 + 91, 90),
            Err(ProxyError::Stale(91, 90))
        );
        assert_eq!(
            verify([&secret], A, 1466106083, 90),
            Err(ProxyError::MissingSignature)
        );
    }

    /// The signed string as SHOPIFY.md §3 spells it out: decode, group repeated keys' values
    /// with commas, make `key=value` strings, sort them, concatenate.
    fn reference(raw_query: &str) -> String {
        let mut grouped = std::collections::BTreeMap::<String, Vec<String>>::new();
        for (k, v) in form_urlencoded::parse(raw_query.as_bytes()) {
            grouped
                .entry(k.into_owned())
                .or_default()
                .push(v.into_owned());
        }
        let mut pairs: Vec<String> = grouped
            .iter()
            .filter(|(k, _)| k.as_str() != "signature")
            .map(|(k, v)| format!("{k}={}", v.join(",")))
            .collect();
        pairs.sort();
        pairs.concat()
    }

    proptest::proptest! {
        #[test]
        fn signed_string_matches_the_reference(
            params in proptest::collection::vec(("[a-c_=-]{1,3}", "[ a-c,=%-]{0,3}"), 0..8)
        ) {
            let raw = form_urlencoded::Serializer::new(String::new())
                .extend_pairs(&params)
                .finish();
            proptest::prop_assert_eq!(signed_string(&raw).expect("no reserved key repeats"), reference(&raw));
        }

        #[test]
        fn a_verified_query_gives_each_keys_joined_values(
            params in proptest::collection::vec(("[a-c_=-]{1,3}", "[ a-c,=%-]{0,3}"), 0..8)
        ) {
            let unsigned = form_urlencoded::Serializer::new(String::new())
                .extend_pairs(&params)
                .append_pair("timestamp", "1466106083")
                .finish();
            let raw = format!("{unsigned}&signature={}", sign("secret", &unsigned).expect("signs"));
            let verified = verify([&SecretString::from("secret")], &raw, 1466106083, 90)
                .expect("valid");
            for (key, _) in &params {
                let values: Vec<&str> = params
                    .iter()
                    .filter(|(k, _)| k == key)
                    .map(|(_, v)| v.as_str())
                    .collect();
                let joined = values.join(",");
                proptest::prop_assert_eq!(verified.get(key), Some(joined.as_str()));
            }
            proptest::prop_assert_eq!(verified.get("d"), None);
        }
    }
}
