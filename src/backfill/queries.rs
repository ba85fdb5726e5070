//! The GraphQL documents of a backfill (SHOPIFY.md §7): the two bulk queries, the mutation
//! that starts one, and the status read. Bulk queries allow at most two levels of nested
//! connections; the orders and products queries use one each.

use chrono::NaiveDate;
use serde::Deserialize;

/// Starts a bulk query; `$query` is one of the documents below.
pub const RUN: &str = "mutation backfillRun($query: String!) {
  bulkOperationRunQuery(query: $query) {
    bulkOperation { id status }
    userErrors { message }
  }
}";

/// Reads one operation's status.
pub const STATUS: &str = "query backfillStatus($id: ID!) {
  node(id: $id) {
    ... on BulkOperation { id status errorCode objectCount url partialDataUrl }
  }
}";

/// Products with what recommendations need: catalogue fields, variants with price and stock.
pub const PRODUCTS: &str = "{
  products {
    edges {
      node {
        id handle title productType vendor status publishedAt updatedAt tags isGiftCard
        featuredImage { url }
        variants {
          edges {
            node {
              id title sku price compareAtPrice position inventoryQuantity availableForSale
              inventoryPolicy inventoryItem { tracked }
            }
          }
        }
      }
    }
  }
}";

/// Orders created on or after `since`, with ids and quantities only (no personal data).
pub fn orders(since: NaiveDate) -> String {
    format!(
        "{{
  orders(query: \"created_at:>={since}\") {{
    edges {{
      node {{
        id name createdAt processedAt updatedAt cancelledAt test displayFinancialStatus
        currencyCode
        totalPriceSet {{ shopMoney {{ amount }} }}
        currentTotalPriceSet {{ shopMoney {{ amount }} }}
        customer {{ id }}
        lineItems {{
          edges {{
            node {{
              id quantity currentQuantity sku isGiftCard
              variant {{ id }}
              product {{ id }}
              originalUnitPriceSet {{ shopMoney {{ amount }} }}
            }}
          }}
        }}
      }}
    }}
  }}
}}",
        since = since.format("%Y-%m-%d")
    )
}

#[derive(Debug, Deserialize)]
pub struct RunData {
    #[serde(rename = "bulkOperationRunQuery")]
    pub run: RunPayload,
}

#[derive(Debug, Deserialize)]
pub struct RunPayload {
    #[serde(rename = "bulkOperation")]
    pub operation: Option<OperationRef>,
    #[serde(rename = "userErrors", default)]
    pub user_errors: Vec<UserError>,
}

#[derive(Debug, Deserialize)]
pub struct OperationRef {
    pub id: String,
    pub status: String,
}

#[derive(Debug, Deserialize)]
pub struct UserError {
    pub message: String,
}

#[derive(Debug, Deserialize)]
pub struct StatusData {
    pub node: Option<Operation>,
}

/// A bulk operation as `node(id:)` describes it.
#[derive(Debug, Clone, Deserialize)]
pub struct Operation {
    pub id: String,
    /// CREATED, RUNNING, COMPLETED, CANCELING, CANCELED, FAILED, EXPIRED.
    pub status: String,
    #[serde(rename = "errorCode", default)]
    pub error_code: Option<String>,
    /// An `UnsignedInt64`: a string in JSON (a number accepted too).
    #[serde(rename = "objectCount", default, deserialize_with = "count")]
    pub object_count: Option<i64>,
    #[serde(default)]
    pub url: Option<String>,
}

fn count<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Int(i64),
        Str(String),
    }
    Ok(match Option::<Raw>::deserialize(d)? {
        Some(Raw::Int(n)) => Some(n),
        Some(Raw::Str(s)) => s.parse().ok(),
        None => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_orders_query_filters_by_creation_day() {
        let q = orders(NaiveDate::from_ymd_opt(2025, 11, 26).expect("valid"));
        assert!(q.contains(r#"orders(query: "created_at:>=2025-11-26")"#));
        assert!(q.contains("currentQuantity"));
    }

    #[test]
    fn object_count_is_read_as_a_string_or_a_number() {
        let op: Operation = serde_json::from_value(serde_json::json!({
            "id": "gid://shopify/BulkOperation/1", "status": "COMPLETED", "objectCount": "12",
            "url": null, "errorCode": null
        }))
        .expect("valid");
        assert_eq!(op.object_count, Some(12));
    }
}
