//! `$disconnect`: the pile's WebSocket is gone. The station goes offline unless a newer
//! connection has already replaced this one. Idempotent.

use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use chrono::Utc;
use csms_aws::lambda::route_response;
use csms_domain::Services;
use csms_domain::connection;

#[tracing::instrument(skip_all, fields(connection = event.request_context.connection_id.as_deref().unwrap_or("")))]
pub async fn handle(
    services: &Services,
    event: ApiGatewayWebsocketProxyRequest,
) -> Result<ApiGatewayProxyResponse, lambda_runtime::Error> {
    let connection_id = event.request_context.connection_id.as_deref().unwrap_or_default();
    // API Gateway ignores the answer; an error is only for the logs and the function's metrics.
    if let Some(closed) = connection::close(services, connection_id, Utc::now()).await? {
        tracing::info!(station = %closed.station_id, "station disconnected");
    }
    Ok(route_response(200, None))
}
