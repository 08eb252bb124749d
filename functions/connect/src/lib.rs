//! `$connect`: authenticates a pile's WebSocket handshake and records its connection.
//!
//! The station id arrives as the `stationId` query parameter (CloudFront, or the local stand-in,
//! moves it there from the `/ocpp/<stationId>` path). Answers: 404 unknown station, 401 bad
//! credentials, 400 no common subprotocol, 200 with the chosen `Sec-WebSocket-Protocol`.

use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use aws_lambda_events::http::{HeaderMap, HeaderValue};
use base64::Engine;
use csms_aws::lambda::route_response;
use csms_domain::Services;
use csms_domain::connection::{self, ConnectAttempt, ConnectRefusal};

#[tracing::instrument(skip_all, fields(connection = event.request_context.connection_id.as_deref().unwrap_or("")))]
pub async fn handle(
    services: &Services,
    event: ApiGatewayWebsocketProxyRequest,
) -> Result<ApiGatewayProxyResponse, lambda_runtime::Error> {
    let connection_id = event.request_context.connection_id.as_deref().unwrap_or_default();
    let station_id = event.query_string_parameters.first("stationId").unwrap_or_default();
    let authorization = header(&event.headers, "authorization");
    let credentials = authorization.as_deref().and_then(basic_credentials);
    let attempt = ConnectAttempt {
        connection_id,
        station_id,
        credentials: credentials.as_ref().map(|(u, p)| (u.as_str(), p.as_str())),
        offered_protocols: &header(&event.headers, "sec-websocket-protocol").unwrap_or_default(),
        now: chrono::Utc::now(),
    };
    let outcome = match connection::open(services, attempt).await {
        Ok(outcome) => outcome,
        Err(e) => {
            tracing::error!(station = station_id, error = %e, source = ?std::error::Error::source(&e), "could not open the connection");
            return Ok(response(500, "Internal Server Error"));
        }
    };
    Ok(match outcome {
        Ok(connection) => {
            tracing::info!(station = station_id, protocol = %connection.protocol, "station connected");
            let mut ok = response(200, "");
            ok.headers.insert(
                "Sec-WebSocket-Protocol",
                HeaderValue::from_static(connection.protocol.as_str()),
            );
            ok
        }
        Err(refusal) => {
            tracing::warn!(station = station_id, ?refusal, "connection refused");
            match refusal {
                ConnectRefusal::UnknownStation => response(404, "Not Found"),
                ConnectRefusal::BadCredentials => {
                    let mut r = response(401, "Unauthorized");
                    r.headers.insert(
                        "WWW-Authenticate",
                        HeaderValue::from_static("Basic realm=\"OCPP\", charset=\"UTF-8\""),
                    );
                    r
                }
                ConnectRefusal::NoCommonProtocol => {
                    response(400, "No common OCPP subprotocol (offer ocpp1.6 or ocpp2.0.1)")
                }
            }
        }
    })
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
}

/// `Basic base64(user:password)`; the password may itself contain ':'.
fn basic_credentials(authorization: &str) -> Option<(String, String)> {
    let (scheme, encoded) = authorization.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok()?;
    let (user, password) = std::str::from_utf8(&decoded).ok()?.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

fn response(status_code: i64, body: &str) -> ApiGatewayProxyResponse {
    route_response(status_code, (!body.is_empty()).then(|| body.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_basic_credentials() {
        let enc = |s: &str| format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(s));
        assert_eq!(
            basic_credentials(&enc("CP1:pa:ss")),
            Some(("CP1".into(), "pa:ss".into()))
        );
        assert_eq!(
            basic_credentials(&enc("CP1:pass").replace("Basic", "basic")),
            Some(("CP1".into(), "pass".into()))
        );
        assert_eq!(basic_credentials(&enc("nocolon")), None);
        assert_eq!(basic_credentials("Bearer abc"), None);
        assert_eq!(basic_credentials("Basic !!!"), None);
        assert_eq!(basic_credentials(""), None);
    }
}
