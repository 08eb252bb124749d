//! The `disconnect` WebSocket route handler (in progress).

use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use csms_domain::Services;

pub async fn handle(_services: &Services, _event: ApiGatewayWebsocketProxyRequest) -> Result<ApiGatewayProxyResponse, lambda_runtime::Error> {
    Ok(ApiGatewayProxyResponse { status_code: 200, ..Default::default() })
}
