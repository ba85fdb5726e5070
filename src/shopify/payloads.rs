//! The parts of Shopify's webhook bodies shoprecs uses. Everything else, personal data
//! included, is never deserialized. Ids prefer `admin_graphql_api_id`, because the numeric `id`
//! of some payloads went through a float somewhere upstream and was rounded (SHOPIFY.md gotcha 2).

use chrono::{DateTime, FixedOffset, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer};

use super::ids::{opt_id, parse_id_str};

/// Shopify timestamps carry the shop's offset; we keep UTC.
pub type Timestamp = DateTime<Utc>;

fn opt_time<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Timestamp>, D::Error> {
    let raw: Option<String> = Option::deserialize(d)?;
    match raw.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) => DateTime::<FixedOffset>::parse_from_rfc3339(s)
            .map(|t| Some(t.with_timezone(&Utc)))
            .map_err(|_| {
                serde::de::Error::custom(format!(
                    "`{}` is not an ISO-8601 timestamp",
                    s.chars().take(40).collect::<String>()
                ))
            }),
    }
}

fn opt_money<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
    Option::<Decimal>::deserialize(d)
}

fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// The canonical id: the GID's number when present, else the numeric id.
fn canonical(gid: Option<&str>, id: Option<i64>) -> Option<i64> {
    gid.and_then(parse_id_str).or(id)
}

#[derive(Debug, Deserialize)]
pub struct Order {
    #[serde(default, deserialize_with = "opt_id")]
    id: Option<i64>,
    #[serde(default)]
    admin_graphql_api_id: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub name: String,
    #[serde(default, deserialize_with = "opt_time")]
    pub created_at: Option<Timestamp>,
    #[serde(default, deserialize_with = "opt_time")]
    pub updated_at: Option<Timestamp>,
    #[serde(default, deserialize_with = "opt_time")]
    pub processed_at: Option<Timestamp>,
    #[serde(default, deserialize_with = "opt_time")]
    pub cancelled_at: Option<Timestamp>,
    #[serde(default)]
    pub financial_status: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub test: bool,
    #[serde(default, deserialize_with = "null_as_default")]
    pub currency: String,
    #[serde(default, deserialize_with = "opt_money")]
    pub total_price: Option<Decimal>,
    #[serde(default, deserialize_with = "opt_money")]
    pub current_total_price: Option<Decimal>,
    #[serde(default)]
    pub source_name: Option<String>,
    #[serde(default)]
    pub cart_token: Option<String>,
    #[serde(default)]
    pub checkout_token: Option<String>,
    #[serde(default)]
    pub customer: Option<CustomerRef>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub line_items: Vec<LineItem>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub refunds: Vec<Refund>,
}

impl Order {
    pub fn id(&self) -> Option<i64> {
        canonical(self.admin_graphql_api_id.as_deref(), self.id)
    }
}

#[derive(Debug, Deserialize)]
pub struct CustomerRef {
    #[serde(default, deserialize_with = "opt_id")]
    id: Option<i64>,
    #[serde(default)]
    admin_graphql_api_id: Option<String>,
}

impl CustomerRef {
    pub fn id(&self) -> Option<i64> {
        canonical(self.admin_graphql_api_id.as_deref(), self.id)
    }
}

#[derive(Debug, Deserialize)]
pub struct LineItem {
    #[serde(default, deserialize_with = "opt_id")]
    id: Option<i64>,
    #[serde(default)]
    admin_graphql_api_id: Option<String>,
    #[serde(default, deserialize_with = "opt_id")]
    pub product_id: Option<i64>,
    #[serde(default, deserialize_with = "opt_id")]
    pub variant_id: Option<i64>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub sku: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub quantity: i32,
    /// Net of removals and refunds; absent in older payloads.
    #[serde(default)]
    pub current_quantity: Option<i32>,
    #[serde(default, deserialize_with = "opt_money")]
    pub price: Option<Decimal>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub gift_card: bool,
    #[serde(default)]
    pub product_exists: Option<bool>,
}

impl LineItem {
    pub fn id(&self) -> Option<i64> {
        canonical(self.admin_graphql_api_id.as_deref(), self.id)
    }
}

#[derive(Debug, Deserialize)]
pub struct Refund {
    #[serde(default, deserialize_with = "opt_id")]
    id: Option<i64>,
    #[serde(default)]
    admin_graphql_api_id: Option<String>,
    #[serde(default, deserialize_with = "opt_id")]
    pub order_id: Option<i64>,
    #[serde(default, deserialize_with = "opt_time")]
    pub created_at: Option<Timestamp>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub refund_line_items: Vec<RefundLineItem>,
}

impl Refund {
    pub fn id(&self) -> Option<i64> {
        canonical(self.admin_graphql_api_id.as_deref(), self.id)
    }
}

#[derive(Debug, Deserialize)]
pub struct RefundLineItem {
    #[serde(default, deserialize_with = "opt_id")]
    pub id: Option<i64>,
    #[serde(default, deserialize_with = "opt_id")]
    line_item_id: Option<i64>,
    #[serde(default)]
    line_item: Option<LineItemRef>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub quantity: i32,
}

impl RefundLineItem {
    /// The refunded line's id, canonical when the embedded line item carries its GID.
    pub fn line_item_id(&self) -> Option<i64> {
        self.line_item
            .as_ref()
            .and_then(|l| canonical(l.admin_graphql_api_id.as_deref(), l.id))
            .or(self.line_item_id)
    }
}

#[derive(Debug, Deserialize)]
pub struct LineItemRef {
    #[serde(default, deserialize_with = "opt_id")]
    id: Option<i64>,
    #[serde(default)]
    admin_graphql_api_id: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct Product {
    #[serde(default, deserialize_with = "opt_id")]
    id: Option<i64>,
    #[serde(default)]
    admin_graphql_api_id: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub title: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub handle: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub product_type: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub vendor: String,
    /// One comma-separated string in webhooks.
    #[serde(default, deserialize_with = "null_as_default")]
    pub tags: String,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default, deserialize_with = "opt_time")]
    pub published_at: Option<Timestamp>,
    #[serde(default, deserialize_with = "opt_time")]
    pub updated_at: Option<Timestamp>,
    #[serde(default)]
    pub image: Option<Image>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub images: Vec<Image>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub variants: Vec<Variant>,
    /// Not in Shopify's product webhooks; set by `shoprecs import` from the products export.
    #[serde(default, deserialize_with = "null_as_default")]
    pub gift_card: bool,
}

impl Product {
    pub fn id(&self) -> Option<i64> {
        canonical(self.admin_graphql_api_id.as_deref(), self.id)
    }

    pub fn tag_list(&self) -> Vec<String> {
        self.tags
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
            .collect()
    }

    pub fn image_url(&self) -> Option<String> {
        self.image
            .as_ref()
            .or_else(|| self.images.first())
            .and_then(|i| i.src.clone())
    }
}

#[derive(Debug, Deserialize)]
pub struct Image {
    #[serde(default)]
    pub src: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct Variant {
    #[serde(default, deserialize_with = "opt_id")]
    id: Option<i64>,
    #[serde(default)]
    admin_graphql_api_id: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub title: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub sku: String,
    #[serde(default, deserialize_with = "opt_money")]
    pub price: Option<Decimal>,
    #[serde(default, deserialize_with = "opt_money")]
    pub compare_at_price: Option<Decimal>,
    #[serde(default)]
    pub position: Option<i32>,
    #[serde(default)]
    pub inventory_policy: Option<String>,
    #[serde(default)]
    pub inventory_management: Option<String>,
    #[serde(default)]
    pub inventory_quantity: Option<i64>,
}

impl Variant {
    pub fn id(&self) -> Option<i64> {
        canonical(self.admin_graphql_api_id.as_deref(), self.id)
    }
}

/// `products/delete`: only the id.
#[derive(Debug, Deserialize)]
pub struct Deleted {
    #[serde(deserialize_with = "super::ids::id")]
    pub id: i64,
}

#[derive(Debug, Deserialize)]
pub struct Customer {
    #[serde(default, deserialize_with = "opt_id")]
    id: Option<i64>,
    #[serde(default)]
    admin_graphql_api_id: Option<String>,
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default, deserialize_with = "opt_time")]
    pub created_at: Option<Timestamp>,
    #[serde(default, deserialize_with = "opt_time")]
    pub updated_at: Option<Timestamp>,
    #[serde(default)]
    pub email_marketing_consent: Option<Consent>,
    #[serde(default)]
    pub sms_marketing_consent: Option<Consent>,
}

impl Customer {
    pub fn id(&self) -> Option<i64> {
        canonical(self.admin_graphql_api_id.as_deref(), self.id)
    }
}

#[derive(Debug, Deserialize)]
pub struct Consent {
    #[serde(default)]
    pub state: Option<String>,
}

impl Consent {
    pub fn subscribed(consent: &Option<Consent>) -> bool {
        consent
            .as_ref()
            .and_then(|c| c.state.as_deref())
            .is_some_and(|s| s == "subscribed")
    }
}

#[derive(Debug, Deserialize)]
pub struct Cart {
    #[serde(default)]
    pub token: Option<String>,
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default, deserialize_with = "opt_time")]
    pub created_at: Option<Timestamp>,
    #[serde(default, deserialize_with = "opt_time")]
    pub updated_at: Option<Timestamp>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub line_items: Vec<CartLine>,
}

#[derive(Debug, Deserialize, serde::Serialize)]
pub struct CartLine {
    #[serde(default, deserialize_with = "opt_id")]
    pub product_id: Option<i64>,
    #[serde(default, deserialize_with = "opt_id")]
    pub variant_id: Option<i64>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub quantity: i32,
    #[serde(
        default,
        deserialize_with = "opt_money",
        skip_serializing_if = "Option::is_none"
    )]
    pub price: Option<Decimal>,
}

#[derive(Debug, Deserialize)]
pub struct Checkout {
    #[serde(default, deserialize_with = "opt_id")]
    pub id: Option<i64>,
    #[serde(default)]
    pub token: Option<String>,
    #[serde(default)]
    pub cart_token: Option<String>,
    /// Only whether it is present is kept.
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub customer: Option<CustomerRef>,
    #[serde(default, deserialize_with = "opt_time")]
    pub created_at: Option<Timestamp>,
    #[serde(default, deserialize_with = "opt_time")]
    pub updated_at: Option<Timestamp>,
    #[serde(default, deserialize_with = "opt_time")]
    pub completed_at: Option<Timestamp>,
    #[serde(default)]
    pub currency: Option<String>,
    #[serde(default, deserialize_with = "opt_money")]
    pub total_price: Option<Decimal>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub line_items: Vec<CartLine>,
}

#[derive(Debug, Deserialize)]
pub struct CustomersRedact {
    pub customer: IdOnly,
    #[serde(default, deserialize_with = "null_as_default")]
    pub orders_to_redact: Vec<i64>,
}

#[derive(Debug, Deserialize)]
pub struct CustomersDataRequest {
    pub customer: IdOnly,
    #[serde(default, deserialize_with = "null_as_default")]
    pub orders_requested: Vec<i64>,
    #[serde(default)]
    pub data_request: Option<IdOnly>,
}

#[derive(Debug, Deserialize)]
pub struct IdOnly {
    #[serde(deserialize_with = "super::ids::id")]
    pub id: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_ids_come_from_the_gid_not_the_rounded_number() {
        let order: Order = serde_json::from_str(
            r#"{"id": 820982911946154500, "admin_graphql_api_id": "gid://shopify/Order/820982911946154508",
                "customer": null, "line_items": [{"id": 1, "product_id": null, "variant_id": null, "quantity": 2, "sku": ""}]}"#,
        )
        .expect("parses");
        assert_eq!(order.id(), Some(820_982_911_946_154_508));
        assert!(order.customer.is_none());
        assert_eq!(order.line_items[0].product_id, None);
    }

    #[test]
    fn money_accepts_strings_and_numbers() {
        let line: CartLine =
            serde_json::from_str(r#"{"price": "19.99", "quantity": 1}"#).expect("string");
        assert_eq!(line.price, Some(Decimal::new(1999, 2)));
        let line: CartLine =
            serde_json::from_str(r#"{"price": 19.5, "quantity": 1}"#).expect("number");
        assert_eq!(line.price, Some(Decimal::new(195, 1)));
    }

    #[test]
    fn bad_timestamps_are_errors_not_panics() {
        let err = serde_json::from_str::<Order>(r#"{"id": 1, "updated_at": "yesterday"}"#)
            .expect_err("bad time");
        assert!(err.to_string().contains("ISO-8601"), "{err}");
    }
}
