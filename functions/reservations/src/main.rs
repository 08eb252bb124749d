#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    csms_aws::lambda::serve_with_reservations(reservations::handle).await
}
