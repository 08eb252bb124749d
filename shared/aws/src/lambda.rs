//! Building API Gateway route responses (the event structs are non-exhaustive).

use aws_lambda_events::apigw::ApiGatewayProxyResponse;
use aws_lambda_events::encodings::Body;

/// A route response: for `$connect` the handshake's HTTP status, for `$default` the frame sent
/// back to the pile (no body, no frame).
pub fn route_response(status_code: i64, body: Option<String>) -> ApiGatewayProxyResponse {
    let mut response = ApiGatewayProxyResponse::default();
    response.status_code = status_code;
    response.body = body.map(Body::Text);
    response
}
