//! What the stand-in invokes: the WebSocket routes and the queue consumers. The gateway and the
//! pollers are generic over these traits; production implementations call the same `handle`
//! functions the Lambda binaries run, tests plug in their own.

use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};
use csms_domain::Services;
use csms_domain::reservation::ReservationServices;
use futures_util::FutureExt;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::time::Duration;

pub type RouteResult = Result<ApiGatewayProxyResponse, lambda_runtime::Error>;
pub type BatchResult = Result<SqsBatchResponse, lambda_runtime::Error>;

/// The integrations of the WebSocket API's `$connect`, `$default` and `$disconnect` routes.
pub trait WebSocketRoutes: Send + Sync + 'static {
    fn connect(&self, event: ApiGatewayWebsocketProxyRequest) -> impl Future<Output = RouteResult> + Send;
    fn message(&self, event: ApiGatewayWebsocketProxyRequest) -> impl Future<Output = RouteResult> + Send;
    fn disconnect(&self, event: ApiGatewayWebsocketProxyRequest) -> impl Future<Output = RouteResult> + Send;
}

/// The function behind one SQS event source mapping.
pub trait QueueConsumer: Send + Sync + 'static {
    fn consume(&self, event: SqsEvent) -> impl Future<Output = BatchResult> + Send;
}

/// One Lambda function as the stand-in runs it: its own services and reservation ports (built
/// from its own environment) and its timeout.
pub struct Function {
    pub name: String,
    pub services: Services,
    pub reservations: ReservationServices,
    pub timeout: Duration,
}

impl Function {
    /// Runs one invocation as Lambda would see it: a panic or running past the function's
    /// timeout is a failed invocation (an `Err`), not a crash of the stand-in.
    pub async fn invoke<'a, T, F>(
        &'a self,
        invocation: impl FnOnce(&'a Services, &'a ReservationServices) -> F,
    ) -> Result<T, lambda_runtime::Error>
    where
        F: Future<Output = Result<T, lambda_runtime::Error>>,
    {
        let run = AssertUnwindSafe(invocation(&self.services, &self.reservations)).catch_unwind();
        match tokio::time::timeout(self.timeout, run).await {
            Ok(Ok(result)) => result,
            Ok(Err(panic)) => {
                let message = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "panic".into());
                tracing::error!(function = %self.name, %message, "handler panicked");
                Err(format!("{}: handler panicked: {message}", self.name).into())
            }
            Err(_) => {
                tracing::error!(function = %self.name, timeout = ?self.timeout, "handler timed out");
                Err(format!(
                    "{}: Task timed out after {:.2} seconds",
                    self.name,
                    self.timeout.as_secs_f64()
                )
                .into())
            }
        }
    }
}

/// The real route handlers (`functions/connect`, `functions/message`, `functions/disconnect`).
pub struct LambdaRoutes {
    pub connect: Function,
    pub message: Function,
    pub disconnect: Function,
}

impl WebSocketRoutes for LambdaRoutes {
    async fn connect(&self, event: ApiGatewayWebsocketProxyRequest) -> RouteResult {
        self.connect.invoke(|s, _| connect::handle(s, event)).await
    }

    async fn message(&self, event: ApiGatewayWebsocketProxyRequest) -> RouteResult {
        self.message.invoke(|s, r| message::handle(s, r, event)).await
    }

    async fn disconnect(&self, event: ApiGatewayWebsocketProxyRequest) -> RouteResult {
        self.disconnect.invoke(|s, _| disconnect::handle(s, event)).await
    }
}

/// The real queue consumers, chosen by the function's construct id.
pub enum LambdaConsumer {
    Status(Function),
    Sessions(Function),
    Commands(Function),
    Reservations(Function),
}

impl LambdaConsumer {
    /// Construct ids of the functions the stand-in can run behind a queue.
    pub const FUNCTIONS: &'static [&'static str] = &[
        "StatusFunction",
        "SessionsFunction",
        "CommandsFunction",
        "ReservationsFunction",
    ];

    pub fn for_function(construct_id: &str, function: Function) -> Option<Self> {
        match construct_id {
            "StatusFunction" => Some(Self::Status(function)),
            "SessionsFunction" => Some(Self::Sessions(function)),
            "CommandsFunction" => Some(Self::Commands(function)),
            "ReservationsFunction" => Some(Self::Reservations(function)),
            _ => None,
        }
    }
}

impl QueueConsumer for LambdaConsumer {
    async fn consume(&self, event: SqsEvent) -> BatchResult {
        match self {
            Self::Status(f) => f.invoke(|s, _| status::handle(s, event)).await,
            Self::Sessions(f) => f.invoke(|s, _| sessions::handle(s, event)).await,
            Self::Commands(f) => f.invoke(|s, r| commands::handle(s, r, event)).await,
            Self::Reservations(f) => f.invoke(|s, r| reservations::handle(s, r, event)).await,
        }
    }
}
