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

/// The whole `main` of a function: the runtime's default (JSON-capable) subscriber, the services
/// built once from the environment, then the invocation loop calling `handler`.
pub async fn serve<E, R, F, Fut>(handler: F) -> Result<(), lambda_runtime::Error>
where
    E: serde::de::DeserializeOwned + Send + 'static,
    R: serde::Serialize + Send + 'static,
    F: Fn(&'static csms_domain::Services, E) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<R, lambda_runtime::Error>> + Send + 'static,
{
    lambda_runtime::tracing::init_default_subscriber();
    // Lives as long as the execution environment.
    let services: &'static csms_domain::Services = Box::leak(Box::new(crate::services_from_env().await?));
    lambda_runtime::run(lambda_runtime::service_fn(
        move |event: lambda_runtime::LambdaEvent<E>| handler(services, event.payload),
    ))
    .await
}

/// Like [`serve`], for a function that also uses the reservation ports (its own deps, apart
/// from [`csms_domain::Services`]).
pub async fn serve_with_reservations<E, R, F, Fut>(handler: F) -> Result<(), lambda_runtime::Error>
where
    E: serde::de::DeserializeOwned + Send + 'static,
    R: serde::Serialize + Send + 'static,
    F: Fn(&'static csms_domain::Services, &'static csms_domain::reservation::ReservationServices, E) -> Fut
        + Send
        + Sync
        + 'static,
    Fut: std::future::Future<Output = Result<R, lambda_runtime::Error>> + Send + 'static,
{
    lambda_runtime::tracing::init_default_subscriber();
    let services: &'static csms_domain::Services = Box::leak(Box::new(crate::services_from_env().await?));
    let reservations: &'static csms_domain::reservation::ReservationServices =
        Box::leak(Box::new(crate::reservation_services_from_env().await?));
    lambda_runtime::run(lambda_runtime::service_fn(
        move |event: lambda_runtime::LambdaEvent<E>| handler(services, reservations, event.payload),
    ))
    .await
}

/// Runs `process` on each record, in order, for a consumer of a FIFO queue. A failed
/// record fails every record after it too, so that the order within a message group holds; all of
/// them are reported as batch item failures (retried, then dead-lettered), the rest is deleted.
pub async fn fifo_batch<F, Fut>(
    event: aws_lambda_events::sqs::SqsEvent,
    mut process: F,
) -> aws_lambda_events::sqs::SqsBatchResponse
where
    F: FnMut(aws_lambda_events::sqs::SqsMessage) -> Fut,
    Fut: std::future::Future<Output = Result<(), lambda_runtime::Error>>,
{
    use tracing::Instrument;
    let mut response = aws_lambda_events::sqs::SqsBatchResponse::default();
    let mut failed = false;
    for record in event.records {
        let id = record.message_id.clone().unwrap_or_default();
        if !failed {
            let span = tracing::info_span!("record", message = %id);
            if let Err(e) = process(record).instrument(span.clone()).await {
                span.in_scope(
                    || tracing::error!(error = %e, "record failed; it and the rest of its batch will be retried"),
                );
                failed = true;
            }
        }
        if failed {
            let mut failure = aws_lambda_events::sqs::BatchItemFailure::default();
            failure.item_identifier = id;
            response.batch_item_failures.push(failure);
        }
    }
    response
}
