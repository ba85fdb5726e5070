//! The OpenAPI 3 document of `/api/v1`, generated from the handlers' `#[utoipa::path]`
//! annotations and the response types, served at `GET /api/v1/openapi.json` without a key.
//!
//! Response objects are *closed*: serde writes every field of our response types (`None` as
//! `null`) and nothing else, so the document marks every property required and forbids others.
//! A client generated from it, or a validator, notices any renamed or added field.

use std::sync::LazyLock;

use axum::http::header;
use axum::response::IntoResponse;
use utoipa::openapi::content::ContentBuilder;
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::schema::{AdditionalProperties, Schema, SchemaType};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{
    Components, KnownFormat, Object, ObjectBuilder, OneOfBuilder, Ref, RefOr, SchemaFormat, Type,
};
use utoipa::{Modify, OpenApi, PartialSchema, ToResponse, ToSchema};

use super::{
    abandoned, backfill, customers, engagement, events, recommendations, rules, segments, stats,
};
use crate::engine::Reason;

/// The name of the security scheme every operation requires.
const API_KEY: &str = "api_key";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "shoprecs API",
        description = "Recommendations, merchant rules, widget statistics, lifecycle segments, \
            abandoned checkouts and outgoing events for one shop. \
            Every request proves its shop with the shop's API key \
            (`Authorization: Bearer srk_…`, created with `shoprecs api-key create`).",
    ),
    paths(
        recommendations::for_product,
        recommendations::for_cart,
        recommendations::for_customer,
        recommendations::bestsellers,
        recommendations::trending,
        rules::list,
        rules::create,
        rules::delete,
        stats::widgets,
        segments::list,
        segments::set_policy,
        segments::members,
        customers::show,
        customers::email_block,
        engagement::series,
        abandoned::list,
        events::list_endpoints,
        events::create_endpoint,
        events::delete_endpoint,
        events::send_test,
        events::list_events,
        backfill::progress,
        document,
    ),
    components(
        schemas(ErrorResponse),
        responses(BadRequest, Unauthorized, Forbidden, NotFound, Unprocessable),
    ),
    security(("api_key" = [])),
    modifiers(&ApiKeyScheme, &ClosedResponses),
    tags(
        (name = "recommendations", description = "Recommendation lists"),
        (name = "rules", description = "Merchant rules: pin or exclude products"),
        (name = "stats", description = "Widget performance"),
        (name = "segments", description = "Lifecycle segments, engagement scores and e-mail blocks for flows"),
        (name = "checkouts", description = "Abandoned checkouts and their bundle offers"),
        (name = "events", description = "Outgoing events for e-mail/SMS flows: endpoints, test event, delivery state"),
        (name = "backfill", description = "History fetched from Shopify: progress of the shop's backfill"),
        (name = "meta", description = "This document"),
    ),
)]
pub struct ApiDoc;

static DOCUMENT: LazyLock<String> = LazyLock::new(|| {
    ApiDoc::openapi()
        .to_pretty_json()
        .expect("the OpenAPI document serializes")
});

/// `GET /api/v1/openapi.json`
#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    tag = "meta",
    operation_id = "openapi_document",
    summary = "This OpenAPI document",
    security(()),
    responses((status = 200, description = "The OpenAPI 3.1 document", content_type = "application/json")),
)]
pub async fn document() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        DOCUMENT.as_str(),
    )
}

struct ApiKeyScheme;

impl Modify for ApiKeyScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        openapi
            .components
            .get_or_insert_with(Components::new)
            .add_security_scheme(
                API_KEY,
                SecurityScheme::Http(
                    HttpBuilder::new()
                        .scheme(HttpAuthScheme::Bearer)
                        .bearer_format("srk_…")
                        .description(Some("The shop's API key"))
                        .build(),
                ),
            );
    }
}

/// Request bodies: their optional fields may be omitted, so they are not closed here.
const REQUEST_BODIES: &[&str] = &["NewRule", "NewEndpoint"];

/// Closes every response object (see the module documentation), first merging `allOf`s made by
/// `#[serde(flatten)]` into one object so that "no other properties" applies to the whole.
struct ClosedResponses;

impl Modify for ClosedResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let Some(components) = openapi.components.as_mut() else {
            return;
        };
        let snapshot = components.schemas.clone();
        for (name, schema) in components.schemas.iter_mut() {
            if REQUEST_BODIES.contains(&name.as_str()) {
                continue;
            }
            if let RefOr::T(Schema::AllOf(all_of)) = schema {
                let mut merged = Object::new();
                merged.schema_type = SchemaType::Type(Type::Object);
                merged.description = all_of.description.clone();
                for part in &all_of.items {
                    let part = match part {
                        RefOr::Ref(r) => r
                            .ref_location
                            .rsplit('/')
                            .next()
                            .and_then(|n| snapshot.get(n)),
                        own => Some(own),
                    };
                    if let Some(RefOr::T(Schema::Object(part))) = part {
                        merged.properties.extend(part.properties.clone());
                    }
                }
                *schema = RefOr::T(Schema::Object(merged));
            }
            if let RefOr::T(Schema::Object(object)) = schema {
                close(object);
            }
        }
    }
}

fn close(object: &mut Object) {
    if object.properties.is_empty() {
        return;
    }
    object.required = object.properties.keys().cloned().collect();
    object.additional_properties = Some(Box::new(AdditionalProperties::FreeForm(false)));
}

/// The body of every error response.
#[derive(ToSchema)]
#[allow(dead_code)] // documentation only: `AppError` renders it
struct ErrorResponse {
    error: ErrorDetail,
}

/// What went wrong.
#[derive(ToSchema)]
#[allow(dead_code)] // documentation only
struct ErrorDetail {
    /// Stable, machine-readable.
    #[schema(schema_with = error_codes)]
    code: String,
    /// For people; may change.
    message: String,
}

fn error_codes() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some([
            "bad_request",
            "unauthorized",
            "forbidden",
            "not_found",
            "unprocessable",
            "payload_too_large",
            "rate_limited",
            "rejected",
            "unavailable",
            "internal",
        ]))
        .build()
}

fn error_response(description: &str) -> RefOr<Response> {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name(ErrorResponse::name())))
                .build(),
        )
        .build()
        .into()
}

macro_rules! error_responses {
    ($($name:ident: $description:literal;)*) => {$(
        #[doc = $description]
        pub struct $name;

        impl<'r> ToResponse<'r> for $name {
            fn response() -> (&'r str, RefOr<Response>) {
                (stringify!($name), error_response($description))
            }
        }
    )*};
}

error_responses! {
    BadRequest: "The body is not JSON (or not sent as `application/json`).";
    Unauthorized: "No API key, or an unknown or revoked one.";
    Forbidden: "The shop of this API key has uninstalled the app.";
    NotFound: "No such resource in this shop (or a malformed id in the path).";
    Unprocessable: "A parameter or the body is well-formed but unacceptable (out of range, unknown option, missing field).";
}

// `Reason` is the engine's; its schema is written here so the engine needs no utoipa. It is
// serialized as a union tagged by `kind` (`#[serde(tag = "kind", rename_all = "snake_case")]`).

/// A variant's fields other than `kind`.
type Fields = Vec<(&'static str, ObjectBuilder)>;

impl PartialSchema for Reason {
    fn schema() -> RefOr<Schema> {
        let product = || {
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
        };
        let count = || {
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int32)))
                .minimum(Some(0))
        };
        let text = || ObjectBuilder::new().schema_type(Type::String);
        let with = |more: Fields| {
            let mut fields = vec![
                ("with", product().description(Some("The context product"))),
                ("with_title", text().description(Some("Its title"))),
            ];
            fields.extend(more);
            fields
        };
        let variants: Vec<(&str, &str, Fields)> = vec![
            ("pinned", "Pinned by the merchant.", vec![]),
            (
                "bought_together",
                "Often in the same order as `with`.",
                with(vec![
                    (
                        "orders_together",
                        count().description(Some("Orders containing both")),
                    ),
                    (
                        "orders_with",
                        count().description(Some("Orders containing `with`")),
                    ),
                ]),
            ),
            (
                "viewed_together",
                "Often viewed in the same session as `with`.",
                with(vec![(
                    "sessions_together",
                    count().description(Some("Sessions containing both")),
                )]),
            ),
            (
                "because_you_viewed",
                "Similar to something the shopper viewed.",
                with(vec![]),
            ),
            (
                "because_you_added_to_cart",
                "Similar to something the shopper put in the cart.",
                with(vec![]),
            ),
            (
                "because_you_bought",
                "Similar to something the customer bought.",
                with(vec![]),
            ),
            (
                "buy_again",
                "A consumable the customer bought, now due again.",
                vec![(
                    "last_bought_days_ago",
                    count().description(Some("Days since their last purchase of it")),
                )],
            ),
            (
                "popular_in_type",
                "Among the bestsellers of a product type.",
                vec![("product_type", text())],
            ),
            (
                "popular_with_tag",
                "Among the bestsellers with a tag.",
                vec![("tag", text())],
            ),
            ("bestseller", "Among the shop's bestsellers.", vec![]),
            ("trending", "Selling faster than usual.", vec![]),
            (
                "from_catalog",
                "Newest recommendable products, so that a shelf is never empty.",
                vec![],
            ),
        ];
        let mut one_of = OneOfBuilder::new().description(Some(
            "Why an item is on a list, with evidence: one object per `kind`.",
        ));
        for (kind, description, fields) in variants {
            let tag = text().enum_values(Some([kind]));
            let mut variant = ObjectBuilder::new()
                .title(Some(kind))
                .description(Some(description))
                .property("kind", tag);
            for (name, field) in fields {
                variant = variant.property(name, field);
            }
            let mut variant = variant.build();
            close(&mut variant);
            one_of = one_of.item(variant);
        }
        RefOr::T(Schema::OneOf(one_of.build()))
    }
}

impl ToSchema for Reason {}

#[cfg(test)]
mod tests {
    use super::*;

    /// One of each variant; the `match` stops compiling when a variant is added.
    fn every_reason() -> Vec<Reason> {
        let all = vec![
            Reason::Pinned,
            Reason::BoughtTogether {
                with: 1,
                with_title: "Shampoo".into(),
                orders_together: 3,
                orders_with: 7,
            },
            Reason::ViewedTogether {
                with: 1,
                with_title: "Shampoo".into(),
                sessions_together: 4,
            },
            Reason::BecauseYouViewed {
                with: 1,
                with_title: "Shampoo".into(),
            },
            Reason::BecauseYouAddedToCart {
                with: 1,
                with_title: "Shampoo".into(),
            },
            Reason::BecauseYouBought {
                with: 1,
                with_title: "Shampoo".into(),
            },
            Reason::BuyAgain {
                last_bought_days_ago: 30,
            },
            Reason::PopularInType {
                product_type: "Hair".into(),
            },
            Reason::PopularWithTag {
                tag: "vegan".into(),
            },
            Reason::Bestseller,
            Reason::Trending,
            Reason::FromCatalog,
        ];
        for reason in &all {
            match reason {
                Reason::Pinned
                | Reason::BoughtTogether { .. }
                | Reason::ViewedTogether { .. }
                | Reason::BecauseYouViewed { .. }
                | Reason::BecauseYouAddedToCart { .. }
                | Reason::BecauseYouBought { .. }
                | Reason::BuyAgain { .. }
                | Reason::PopularInType { .. }
                | Reason::PopularWithTag { .. }
                | Reason::Bestseller
                | Reason::Trending
                | Reason::FromCatalog => {}
            }
        }
        all
    }

    #[test]
    fn the_hand_written_reason_schema_matches_every_variant() {
        let schema = serde_json::to_value(Reason::schema()).expect("schema");
        let validator = jsonschema::draft202012::new(&schema).expect("a valid JSON schema");
        let reasons = every_reason();
        for reason in &reasons {
            let json = serde_json::to_value(reason).expect("serialize");
            let errors: Vec<String> = validator
                .iter_errors(&json)
                .map(|e| e.to_string())
                .collect();
            assert!(errors.is_empty(), "{json}: {errors:?}");
        }
        let variants = schema["oneOf"].as_array().expect("oneOf").len();
        assert_eq!(variants, reasons.len(), "one schema per variant");
        // A renamed field fails.
        let mut renamed = serde_json::to_value(&reasons[1]).expect("serialize");
        let object = renamed.as_object_mut().expect("object");
        let value = object.remove("orders_with").expect("field");
        object.insert("orders_with_it".into(), value);
        assert!(!validator.is_valid(&renamed));
    }

    #[test]
    fn the_document_builds_and_closes_items() {
        let doc = serde_json::to_value(ApiDoc::openapi()).expect("document");
        let item = &doc["components"]["schemas"]["Item"];
        assert_eq!(item["additionalProperties"], false, "{item}");
        for field in ["position", "product_id", "price", "reason", "reason_text"] {
            assert!(item["properties"].get(field).is_some(), "{field}: {item}");
        }
    }
}
