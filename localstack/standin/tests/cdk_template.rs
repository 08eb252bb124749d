//! The stand-in against infra's real synthesized template (`cd infra && npm run synth`): every
//! SQS event source mapping must target a function whose handler the stand-in links, or
//! `csms-local` refuses to start. Skipped (with a note) when the template has not been synthesized.

use standin::app::{
    API_FUNCTION, CONNECT_FUNCTION, DISCONNECT_FUNCTION, MESSAGE_FUNCTION, NOT_RUN_LOCALLY, deploy_time_only,
    function_environment, local_values,
};
use standin::http_api;
use standin::routes::LambdaConsumer;
use standin::template::{Plan, Provisioned, Pseudo, QueueInfo, TableInfo};
use std::path::{Path, PathBuf};

fn synthesized() -> Option<PathBuf> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../infra/cdk.out/Csms.template.json");
    if !path.exists() {
        eprintln!(
            "skipped: {} not found (run `cd infra && npm run synth`)",
            path.display()
        );
        return None;
    }
    Some(path)
}

#[test]
fn every_function_of_the_synthesized_template_is_linked() {
    let Some(path) = synthesized() else { return };
    let plan = Plan::from_file(&path, "csms").expect("the synthesized template plans");
    for mapping in &plan.mappings {
        let target = plan.function_by_logical_id(&mapping.function).unwrap();
        assert!(
            LambdaConsumer::FUNCTIONS.contains(&target.construct_id.as_str()),
            "{} consumes a queue but the stand-in does not link it",
            target.construct_id
        );
    }
    for function in &plan.functions {
        let id = function.construct_id.as_str();
        assert!(
            [CONNECT_FUNCTION, MESSAGE_FUNCTION, DISCONNECT_FUNCTION, API_FUNCTION].contains(&id)
                || LambdaConsumer::FUNCTIONS.contains(&id)
                || NOT_RUN_LOCALLY.contains(&id)
                || deploy_time_only(id),
            "the stand-in does not run {id}"
        );
    }
}

/// Issue 10 item 21: the api function's verifier is built locally the way its `main` builds it in
/// Lambda, from the environment the template gives it: `AUTH_TOKEN_USE` from the template as it is,
/// `AUTH_ISSUER` and `AUTH_AUDIENCE` (Cognito's user pool and client in AWS) standing for the
/// development issuer, and the keys fetched over HTTP from the issuer's JWKS URL.
#[test]
fn the_api_functions_verifier_comes_from_its_template_environment() {
    let Some(path) = synthesized() else { return };
    let plan = Plan::from_file(&path, "csms").expect("the synthesized template plans");
    let mut provisioned = Provisioned::default();
    for table in &plan.tables {
        let name = format!("csms-{}", table.construct_id);
        let arn = format!("arn:aws:dynamodb:ddblocal:000000000000:table/{name}");
        provisioned
            .tables
            .insert(table.logical_id.clone(), TableInfo { name, arn });
    }
    for queue in &plan.queues {
        let name = format!("csms-{}", queue.construct_id);
        let info = QueueInfo {
            url: format!("http://127.0.0.1:4566/000000000000/{name}"),
            arn: format!("arn:aws:sqs:us-east-1:000000000000:{name}"),
            name,
        };
        provisioned.queues.insert(queue.logical_id.clone(), info);
    }
    let pseudo = Pseudo {
        region: "us-east-1".into(),
        account_id: "000000000000".into(),
    };
    let resolved = plan.resolve_environment(&provisioned, &pseudo).unwrap();
    // In the template, the issuer and the client are the user pool's: nothing local resolves them.
    let unresolved = &resolved.unresolved[API_FUNCTION];
    assert!(unresolved.contains(&"AUTH_ISSUER".to_owned()) && unresolved.contains(&"AUTH_AUDIENCE".to_owned()));

    let issuer = "http://127.0.0.1:4511/local-issuer";
    let env = function_environment(
        &resolved,
        API_FUNCTION,
        &local_values("http://127.0.0.1:4510/local", issuer),
    );
    let verifier = http_api::function_verifier(&env).expect("the api function's settings are complete");
    let config = verifier.config();
    assert_eq!(config.issuer, issuer);
    assert_eq!(config.audience, http_api::AUDIENCE);
    assert_eq!(
        config.token_use.as_deref(),
        Some("access"),
        "AUTH_TOKEN_USE as the template sets it"
    );
    assert_eq!(config.jwks_url, format!("{issuer}/.well-known/jwks.json"));
    // The authorizer API Gateway plays has no token_use check: an ID token passes it, and only the
    // function refuses it (tests/e2e/test_jwt_door.py).
    assert_eq!(http_api::authorizer_verifier(issuer).config().token_use, None);
}
