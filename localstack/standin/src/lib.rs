//! The local stand-in for what LocalStack's free edition lacks: API Gateway's WebSocket API
//! (with its `@connections` management API) and Lambda's SQS event source mappings. It runs
//! the same handler code as the Lambda binaries, provisioned from the synthesized CDK template.

pub mod app;
pub mod events;
pub mod gateway;
pub mod http_api;
pub mod pile_door;
pub mod poller;
pub mod provision;
pub mod routes;
pub mod template;
