#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    lambda_runtime::run(lambda_runtime::service_fn(
        |event: lambda_runtime::LambdaEvent<aws_lambda_events::cognito::CognitoEventUserPoolsPreTokenGenV2>| {
            pretoken::handle(event.payload)
        },
    ))
    .await
}
