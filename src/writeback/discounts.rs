//! Bundle discount codes: the code an offer gets, and the `discountCodeBasicCreate` input that
//! makes it a real single-use Shopify discount limited to the bundle's products. Pure.

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

/// Unambiguous characters for codes a shopper may type (no 0/O, 1/I/L).
const ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";

/// The offer's code: decided once, when the offer is made, from a keyed hash of shop and
/// checkout, so it cannot be guessed from a checkout token and a retried creation asks Shopify
/// for the same code again (and learns it exists) instead of making a second discount.
pub fn code_for(key: &[u8], shop_id: i64, checkout_token: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    mac.update(b"shoprecs bundle code\0");
    mac.update(&shop_id.to_be_bytes());
    mac.update(checkout_token.as_bytes());
    let digest = mac.finalize().into_bytes();
    let letters: String = digest
        .iter()
        .take(10)
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect();
    format!("BUNDLE-{letters}")
}

/// What the discount is.
pub struct DiscountSpec<'a> {
    pub code: &'a str,
    pub percent: i32,
    pub product_ids: &'a [i64],
    pub customer_id: Option<i64>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

pub const CREATE: &str = "mutation BundleDiscount($input: DiscountCodeBasicInput!) {
  discountCodeBasicCreate(basicCodeDiscount: $input) {
    codeDiscountNode { id }
    userErrors { field code message }
  }
}";

pub const FIND: &str = "query BundleDiscountByCode($code: String!) {
  codeDiscountNodeByCode(code: $code) { id }
}";

/// Variables for [`CREATE`]: percentage off the bundle's products only, one use in total,
/// for the checkout's customer when known, valid until `ends_at`.
pub fn create_variables(spec: &DiscountSpec<'_>) -> Value {
    let products: Vec<String> = spec
        .product_ids
        .iter()
        .map(|id| format!("gid://shopify/Product/{id}"))
        .collect();
    let context = match spec.customer_id {
        Some(id) => json!({"customers": {"add": [format!("gid://shopify/Customer/{id}")]}}),
        None => json!({"all": "ALL"}),
    };
    json!({
        "input": {
            "title": format!("shoprecs bundle {}% ({})", spec.percent, spec.code),
            "code": spec.code,
            "startsAt": spec.starts_at.to_rfc3339(),
            "endsAt": spec.ends_at.to_rfc3339(),
            "context": context,
            "customerGets": {
                "value": {"percentage": f64::from(spec.percent) / 100.0},
                "items": {"products": {"productsToAdd": products}},
            },
            "usageLimit": 1,
            "appliesOncePerCustomer": true,
        }
    })
}

/// How a create call came out.
#[derive(Debug, PartialEq, Eq)]
pub enum Created {
    /// Shopify made it: its id.
    Made(String),
    /// The code exists already (an earlier attempt made it): look it up.
    Taken,
    /// Refused for another reason.
    Refused(String),
}

pub fn read_created(data: &Value) -> Created {
    let payload = &data["discountCodeBasicCreate"];
    let errors: Vec<&Value> = payload["userErrors"]
        .as_array()
        .map(|e| e.iter().collect())
        .unwrap_or_default();
    if errors.iter().any(|e| e["code"] == "TAKEN") {
        return Created::Taken;
    }
    if let Some(id) = payload["codeDiscountNode"]["id"].as_str() {
        if errors.is_empty() {
            return Created::Made(id.to_owned());
        }
    }
    let message = errors
        .iter()
        .filter_map(|e| e["message"].as_str())
        .collect::<Vec<_>>()
        .join("; ");
    Created::Refused(if message.is_empty() {
        "no discount in Shopify's answer".into()
    } else {
        message
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_stable_per_checkout_and_differ_between_checkouts_and_shops() {
        let a = code_for(b"k", 1, "tok-a");
        assert_eq!(a, code_for(b"k", 1, "tok-a"));
        assert_ne!(a, code_for(b"k", 1, "tok-b"));
        assert_ne!(a, code_for(b"k", 2, "tok-a"));
        assert_ne!(a, code_for(b"other key", 1, "tok-a"));
        assert!(a.starts_with("BUNDLE-") && a.len() == 17, "{a}");
        assert!(a[7..].bytes().all(|b| ALPHABET.contains(&b)));
    }

    #[test]
    fn the_discount_is_single_use_and_limited_to_the_bundle() {
        let now = DateTime::parse_from_rfc3339("2026-11-26T10:00:00Z")
            .expect("date")
            .with_timezone(&Utc);
        let vars = create_variables(&DiscountSpec {
            code: "BUNDLE-X",
            percent: 15,
            product_ids: &[11, 12],
            customer_id: Some(5),
            starts_at: now,
            ends_at: now + chrono::Duration::hours(72),
        });
        let input = &vars["input"];
        assert_eq!(input["code"], "BUNDLE-X");
        assert_eq!(input["usageLimit"], 1);
        assert_eq!(input["customerGets"]["value"]["percentage"], 0.15);
        assert_eq!(
            input["customerGets"]["items"]["products"]["productsToAdd"],
            json!(["gid://shopify/Product/11", "gid://shopify/Product/12"])
        );
        assert_eq!(
            input["context"]["customers"]["add"],
            json!(["gid://shopify/Customer/5"])
        );
        assert_eq!(input["endsAt"], "2026-11-29T10:00:00+00:00");
    }

    #[test]
    fn answers_are_read_as_made_taken_or_refused() {
        let made = json!({"discountCodeBasicCreate": {"codeDiscountNode": {"id": "gid://shopify/DiscountCodeNode/9"}, "userErrors": []}});
        assert_eq!(
            read_created(&made),
            Created::Made("gid://shopify/DiscountCodeNode/9".into())
        );
        let taken = json!({"discountCodeBasicCreate": {"codeDiscountNode": null, "userErrors": [{"field": ["basicCodeDiscount", "code"], "code": "TAKEN", "message": "Code must be unique. Please try a different code."}]}});
        assert_eq!(read_created(&taken), Created::Taken);
        let bad = json!({"discountCodeBasicCreate": {"codeDiscountNode": null, "userErrors": [{"field": ["basicCodeDiscount", "endsAt"], "code": "INVALID", "message": "Ends at needs to be after starts_at"}]}});
        assert_eq!(
            read_created(&bad),
            Created::Refused("Ends at needs to be after starts_at".into())
        );
    }
}
