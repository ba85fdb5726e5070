//! Shopify ids arrive as JSON integers, numeric strings, or GIDs (`gid://shopify/Product/123`).
//! They exceed 2^53, so they are parsed as `i64` and never pass through a float.

use serde::{Deserialize, Deserializer};

/// Parses `123`, `"123"` or `"gid://shopify/<Type>/123"` (query string after the id ignored).
pub fn parse_id_str(raw: &str) -> Option<i64> {
    let tail = match raw.strip_prefix("gid://shopify/") {
        Some(rest) => rest.rsplit('/').next()?,
        None => raw,
    };
    let digits = tail.split('?').next()?;
    digits.trim().parse::<i64>().ok().filter(|id| *id > 0)
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawId {
    Int(i64),
    Str(String),
}

/// serde helper for an optional id in any of the accepted forms; `null` and absent give `None`.
pub fn opt_id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    let raw: Option<RawId> = Option::deserialize(d)?;
    match raw {
        None => Ok(None),
        Some(RawId::Int(id)) => Ok(Some(id)),
        Some(RawId::Str(s)) if s.is_empty() => Ok(None),
        Some(RawId::Str(s)) => parse_id_str(&s).map(Some).ok_or_else(|| {
            serde::de::Error::custom(format!("`{}` is not a Shopify id", truncate(&s)))
        }),
    }
}

/// serde helper for a required id in any of the accepted forms.
pub fn id<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    opt_id(d)?.ok_or_else(|| serde::de::Error::custom("missing Shopify id"))
}

fn truncate(s: &str) -> String {
    s.chars().take(60).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_form_without_rounding() {
        assert_eq!(
            parse_id_str("820982911946154508"),
            Some(820_982_911_946_154_508)
        );
        assert_eq!(
            parse_id_str("gid://shopify/Order/820982911946154508"),
            Some(820_982_911_946_154_508)
        );
        assert_eq!(parse_id_str("gid://shopify/ProductVariant/7?x=1"), Some(7));
        assert_eq!(parse_id_str("abc"), None);
        assert_eq!(parse_id_str("-5"), None);
    }

    #[test]
    fn json_integers_above_2_pow_53_stay_exact() {
        #[derive(Deserialize)]
        struct T {
            #[serde(deserialize_with = "id")]
            id: i64,
        }
        let t: T = serde_json::from_str(r#"{"id": 9007199254740993}"#).expect("parses");
        assert_eq!(t.id, 9_007_199_254_740_993);
    }
}
