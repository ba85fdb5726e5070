//! The pure parts: which products a checkout holds, when it became abandoned, what the bundle
//! offers.

use chrono::{DateTime, Duration, Utc};
use serde_json::Value;

/// Most products taken from a pixel-only checkout's carted products.
const MAX_CARTED: usize = 10;
/// Most products taken from what it viewed when it carted nothing.
const MAX_VIEWED: usize = 3;

/// The distinct product ids of a stored checkout's lines (`[{"product_id": …}, …]`), in line
/// order. Lines without a product (custom items) are skipped.
pub fn checkout_product_ids(lines: &Value) -> Vec<i64> {
    let mut ids = Vec::new();
    for line in lines.as_array().into_iter().flatten() {
        if let Some(id) = line.get("product_id").and_then(Value::as_i64) {
            if id > 0 && !ids.contains(&id) {
                ids.push(id);
            }
        }
    }
    ids
}

/// The products of a checkout known only from the pixel, which does not send its lines: what
/// the shopper carted just before, or else the last few products they viewed.
pub fn pixel_product_ids(carted: &[i64], viewed: &[i64]) -> Vec<i64> {
    if carted.is_empty() {
        viewed.iter().copied().take(MAX_VIEWED).collect()
    } else {
        carted.iter().copied().take(MAX_CARTED).collect()
    }
}

/// The moment a checkout last changed at `last_change` became abandoned.
pub fn abandoned_at(last_change: DateTime<Utc>, abandon_after_minutes: i64) -> DateTime<Utc> {
    last_change + Duration::minutes(abandon_after_minutes)
}

/// The bundle: the checkout's items, then the complement (when there is one not among them).
pub fn bundle_products(items: &[i64], complement: Option<i64>) -> Vec<i64> {
    let mut bundle = items.to_vec();
    if let Some(c) = complement.filter(|c| !items.contains(c)) {
        bundle.push(c);
    }
    bundle
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn line_products_are_distinct_in_order_and_skip_custom_items() {
        let lines = json!([
            {"product_id": 5, "quantity": 1},
            {"product_id": null, "quantity": 1},
            {"product_id": 3},
            {"product_id": 5, "variant_id": 51},
            {"quantity": 2}
        ]);
        assert_eq!(checkout_product_ids(&lines), vec![5, 3]);
        assert!(checkout_product_ids(&json!({})).is_empty());
        assert!(checkout_product_ids(&json!([])).is_empty());
    }

    #[test]
    fn pixel_checkouts_use_carted_products_else_a_few_viewed_ones() {
        assert_eq!(pixel_product_ids(&[1, 2], &[9, 1, 2]), vec![1, 2]);
        assert_eq!(pixel_product_ids(&[], &[9, 8, 7, 6]), vec![9, 8, 7]);
        assert!(pixel_product_ids(&[], &[]).is_empty());
        let many: Vec<i64> = (1..=30).collect();
        assert_eq!(pixel_product_ids(&many, &[]).len(), MAX_CARTED);
    }

    #[test]
    fn abandoned_at_is_the_last_change_plus_the_delay() {
        let t = DateTime::from_timestamp(1_800_000_000, 0).expect("time");
        assert_eq!(abandoned_at(t, 60).timestamp(), 1_800_003_600);
    }

    #[test]
    fn the_bundle_is_the_items_then_a_new_complement() {
        assert_eq!(bundle_products(&[1, 2], Some(3)), vec![1, 2, 3]);
        assert_eq!(bundle_products(&[1, 2], Some(2)), vec![1, 2]);
        assert_eq!(bundle_products(&[1], None), vec![1]);
        assert_eq!(bundle_products(&[], Some(4)), vec![4]);
    }
}
