//! What every operation can answer whatever its handler declares, added to the generated document
//! once, so a route added later is covered without repeating it.
//!
//! 401 comes from two places: API Gateway's JWT authorizer refuses before the function runs and
//! answers `{"message":"Unauthorized"}` as `application/json` (HTTP APIs cannot reshape it; the
//! stand-in does the same), and the function's own check ([`crate::caller`]) answers a problem
//! document. Both carry a `WWW-Authenticate: Bearer` challenge.
//!
//! 400: every input is validated, so an operation with parameters or a body can refuse it with a
//! problem document even when its handler lists no 400 of its own.
//!
//! 429: every authenticated request counts against its user's budget ([`crate::Limits`]).

use utoipa::openapi::content::ContentBuilder;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{OpenApi, Ref, RefOr};

/// The schema name of API Gateway's own error body.
const GATEWAY_ERROR: &str = "GatewayError";

pub fn complete(document: &mut OpenApi) {
    let components = document.components.get_or_insert_with(Default::default);
    components.schemas.insert(
        GATEWAY_ERROR.to_owned(),
        RefOr::T(
            ObjectBuilder::new()
                .description(Some("API Gateway's own answer, before the function runs"))
                .property("message", ObjectBuilder::new().schema_type(Type::String))
                .required("message")
                .into(),
        ),
    );
    let unauthorized = ResponseBuilder::new()
        .description("No valid bearer token (missing, expired, not for this API, badly signed)")
        .header(
            "WWW-Authenticate",
            HeaderBuilder::new()
                .schema(ObjectBuilder::new().schema_type(Type::String))
                .description(Some("The RFC 6750 Bearer challenge"))
                .build(),
        )
        .content(
            "application/problem+json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .build(),
        )
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name(GATEWAY_ERROR)))
                .build(),
        )
        .build();
    let invalid = ResponseBuilder::new()
        .description("Invalid request")
        .content(
            "application/problem+json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .build(),
        )
        .build();
    let too_many = ResponseBuilder::new()
        .description("Over your request budget for this minute; retry after the seconds given")
        .header(
            "Retry-After",
            HeaderBuilder::new()
                .schema(ObjectBuilder::new().schema_type(Type::Integer))
                .description(Some("Seconds until the budget renews"))
                .build(),
        )
        .content(
            "application/problem+json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .build(),
        )
        .build();
    for item in document.paths.paths.values_mut() {
        let item_has_parameters = item.parameters.as_ref().is_some_and(|p| !p.is_empty());
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
            &mut item.head,
            &mut item.options,
            &mut item.trace,
        ];
        for operation in operations.into_iter().flatten() {
            operation
                .responses
                .responses
                .insert("401".to_owned(), RefOr::T(unauthorized.clone()));
            operation
                .responses
                .responses
                .insert("429".to_owned(), RefOr::T(too_many.clone()));
            let has_input = operation.parameters.as_ref().is_some_and(|p| !p.is_empty())
                || operation.request_body.is_some()
                || item_has_parameters;
            if has_input {
                operation
                    .responses
                    .responses
                    .entry("400".to_owned())
                    .or_insert_with(|| RefOr::T(invalid.clone()));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use utoipa::openapi::RefOr;

    #[test]
    fn every_operation_documents_both_401_bodies_and_those_with_input_a_400() {
        let document = crate::openapi();
        let mut seen = 0;
        for (path, item) in &document.paths.paths {
            for (method, operation) in [
                ("get", &item.get),
                ("post", &item.post),
                ("put", &item.put),
                ("delete", &item.delete),
                ("patch", &item.patch),
            ] {
                let Some(operation) = operation else { continue };
                seen += 1;
                let Some(RefOr::T(unauthorized)) = operation.responses.responses.get("401") else {
                    panic!("{method} {path}: no 401");
                };
                let types: Vec<&str> = unauthorized.content.keys().map(String::as_str).collect();
                assert_eq!(
                    types,
                    ["application/problem+json", "application/json"],
                    "{method} {path}"
                );
                assert!(unauthorized.headers.contains_key("WWW-Authenticate"), "{method} {path}");
                let Some(RefOr::T(too_many)) = operation.responses.responses.get("429") else {
                    panic!("{method} {path}: no 429");
                };
                assert!(too_many.headers.contains_key("Retry-After"), "{method} {path}");
                let has_input =
                    operation.parameters.as_ref().is_some_and(|p| !p.is_empty()) || operation.request_body.is_some();
                assert!(
                    !has_input || operation.responses.responses.contains_key("400"),
                    "{method} {path}: no 400"
                );
            }
        }
        assert!(seen >= 9, "{seen} operations");
    }
}
