//! The app API on Lambda behind API Gateway's HTTP API (payload format 2.0).

use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    lambda_http::tracing::init_default_subscriber();
    let services = csms_aws::services_from_env().await?;
    let reservations = csms_aws::reservation_services_from_env().await?;
    let verifier = csms_auth::Verifier::from_env()?;
    let app = Arc::new(api::App {
        services,
        reservations,
        verifier,
    });
    lambda_http::run(api::router(app)).await
}
