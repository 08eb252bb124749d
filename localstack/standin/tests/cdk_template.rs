//! The stand-in against infra's real synthesized template (`cd infra && npm run synth`): every
//! SQS event source mapping must target a function whose handler the stand-in links, or
//! `csms-local` refuses to start. Skipped (with a note) when the template has not been synthesized.

use standin::app::{
    API_FUNCTION, CONNECT_FUNCTION, DISCONNECT_FUNCTION, MESSAGE_FUNCTION, NOT_RUN_LOCALLY, deploy_time_only,
};
use standin::routes::LambdaConsumer;
use standin::template::Plan;
use std::path::Path;

#[test]
fn every_function_of_the_synthesized_template_is_linked() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../infra/cdk.out/Csms.template.json");
    if !path.exists() {
        eprintln!(
            "skipped: {} not found (run `cd infra && npm run synth`)",
            path.display()
        );
        return;
    }
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
