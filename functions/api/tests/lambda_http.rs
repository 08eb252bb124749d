//! Issue 10 item 22: the api function as Lambda runs it. Real HTTP API events (payload format
//! 2.0, from `events/`) go through `lambda_http`'s adapter, the same `lambda_http::run` wraps the
//! router in, and the answers come back as the HTTP API reads them: status, headers, body.

use api::App;
use chrono::Utc;
use csms_auth::{DevIssuer, Role, Verifier};
use csms_domain::memory::MemoryWorld;
use csms_domain::registry::{self, NewStation};
use csms_domain::*;
use lambda_http::request::LambdaRequest;
use lambda_http::{Adapter, Context, LambdaEvent};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use tower::ServiceExt;

const AUDIENCE: &str = "5ab6cd7ef8gh9ij0kl1mn2op3q";

struct Lambda {
    world: MemoryWorld,
    issuer: DevIssuer,
    app: Arc<App>,
}

/// The demo world of `scripts/run.sh`: CP-DEMO-1 of demo-org, DEMO-CARD-1 redeemed by demo-driver.
async fn lambda() -> Lambda {
    let world = MemoryWorld::default();
    let services = world.services(BootPolicy::default());
    let issuer = DevIssuer::generate("https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEfGhI");
    let verifier = Verifier::new(issuer.verifier_config(AUDIENCE), Arc::new(issuer.clone()));
    let new = NewStation {
        id: StationId::parse("CP-DEMO-1").unwrap(),
        protocols: vec![ProtocolVersion::Ocpp16],
        registration: Registration::Accepted,
        site: None,
        organisation: Some("demo-org".into()),
        location: None,
        connectors: Vec::new(),
        password: None,
    };
    registry::register(&services, new, Utc::now()).await.unwrap();
    let org = OrganisationId::parse("demo-org").unwrap();
    organisation::create(&*services.organisations, org.clone(), "Demo".into(), Utc::now())
        .await
        .unwrap();
    organisation::add_operator(
        &*services.organisations,
        &org,
        Subject::parse("demo-operator").unwrap(),
        Utc::now(),
    )
    .await
    .unwrap();
    for (tag, owner) in [("DEMO-CARD-1", Some("demo-driver")), ("SERVICE-1", None)] {
        let record = TokenRecord {
            token: IdToken::parse_16(tag).unwrap(),
            status: AuthorizationStatus::Accepted,
            expiry: None,
            group: None,
            owner: owner.map(Into::into),
            organisation: Some("demo-org".into()),
        };
        services.charging.tokens.put(&record).await.unwrap();
    }
    let reservations = csms_domain::reservation::memory::MemoryReservationWorld::default()
        .services(csms_domain::reservation::ReservationSettings::default());
    let app = Arc::new(App {
        services,
        reservations,
        verifier,
        limits: api::Limits::memory(),
    });
    Lambda { world, issuer, app }
}

impl Lambda {
    /// The sample event, its `Bearer <access token>` replaced by a token of `subject` with `roles`.
    fn event(&self, json: &str, subject: &str, roles: &[Role]) -> LambdaRequest {
        let token = self
            .issuer
            .mint(subject, roles, None, AUDIENCE, Duration::from_secs(600));
        let json = json.replace("<access token>", &token);
        serde_json::from_str(&json).expect("an HTTP API (payload 2.0) event")
    }

    /// What the HTTP API gets back: the adapter's response, serialized as Lambda returns it.
    async fn invoke(&self, request: LambdaRequest) -> Value {
        let adapter = Adapter::from(api::router(self.app.clone()));
        let response = adapter
            .oneshot(LambdaEvent::new(request, Context::default()))
            .await
            .unwrap();
        serde_json::to_value(response).unwrap()
    }
}

fn body(response: &Value) -> Value {
    assert_eq!(response["isBase64Encoded"], false, "{response}");
    serde_json::from_str(response["body"].as_str().unwrap()).unwrap()
}

#[tokio::test]
async fn the_public_document_comes_through_the_adapter() {
    let l = lambda().await;
    let request: LambdaRequest =
        serde_json::from_str(include_str!("../../../events/http-api-get-openapi.json")).unwrap();
    let response = l.invoke(request).await;
    assert_eq!(response["statusCode"], 200, "{response}");
    assert_eq!(response["headers"]["content-type"], "application/json");
    let document = body(&response);
    assert!(document["openapi"].as_str().unwrap().starts_with("3.1"));
    assert!(document["paths"]["/v1/charging/start"]["post"].is_object());
}

#[tokio::test]
async fn a_base64_body_and_its_bearer_token_reach_the_handler() {
    let l = lambda().await;
    let json = include_str!("../../../events/http-api-post-charging-start.json");
    let response = l.invoke(l.event(json, "demo-driver", &[Role::Driver])).await;
    assert_eq!(response["statusCode"], 202, "{response}");
    let started = body(&response);
    assert_eq!(started["action"], "RemoteStartTransaction");
    assert_eq!(started["request"], json!({"idTag": "DEMO-CARD-1", "connectorId": 1}));
    let submitted = l.world.command_queue.submitted.lock().unwrap().clone();
    assert_eq!(submitted[0].requested_by.as_deref(), Some("demo-driver"));

    // The function checks the token itself whatever the authorizer said: another driver's card is 404.
    let response = l.invoke(l.event(json, "someone-else", &[Role::Driver])).await;
    assert_eq!(response["statusCode"], 404, "{response}");
    assert_eq!(response["headers"]["content-type"], "application/problem+json");
    // No token at all (the authorizer's claims alone do not count): 401 with the challenge.
    let mut anonymous: Value = serde_json::from_str(json).unwrap();
    anonymous["headers"].as_object_mut().unwrap().remove("authorization");
    let response = l.invoke(serde_json::from_value(anonymous).unwrap()).await;
    assert_eq!(response["statusCode"], 401, "{response}");
    assert!(
        response["headers"]["www-authenticate"]
            .as_str()
            .unwrap()
            .starts_with("Bearer")
    );
}

#[tokio::test]
async fn query_parameters_come_from_the_event() {
    let l = lambda().await;
    let json = include_str!("../../../events/http-api-get-operator-tokens.json");
    let response = l.invoke(l.event(json, "demo-operator", &[Role::Operator])).await;
    assert_eq!(response["statusCode"], 200, "{response}");
    let page = body(&response);
    assert_eq!(page["tokens"].as_array().unwrap().len(), 1, "limit=1: {page}");
    assert!(page["nextCursor"].is_string());
    // A bad query parameter is the client's 400 problem, through the adapter too.
    let bad = json
        .replace("limit=1", "limit=0")
        .replace(r#""limit": "1""#, r#""limit": "0""#);
    let response = l.invoke(l.event(&bad, "demo-operator", &[Role::Operator])).await;
    assert_eq!(response["statusCode"], 400, "{response}");
}
