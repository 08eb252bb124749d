//! The app API on Lambda behind API Gateway's HTTP API (payload format 2.0).

use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    lambda_http::tracing::init_default_subscriber();
    let (sdk, config) = csms_aws::environment().await?;
    let services = csms_aws::services(&sdk, &config);
    let verifier = csms_auth::Verifier::from_env()?;
    let limits = api::Limits::from_lookup(csms_aws::limit_ports(&sdk, &config), |name| std::env::var(name).ok())?;
    let app = Arc::new(api::App {
        services,
        verifier,
        limits,
    });
    lambda_http::run(api::router(app)).await
}
