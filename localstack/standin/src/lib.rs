//! The local stand-in for what LocalStack's free edition lacks: API Gateway's WebSocket API
//! (with its `@connections` management API), Lambda's SQS event source mappings and EventBridge
//! Scheduler's firing of schedules. It runs the same handler code as the Lambda binaries,
//! provisioned from the synthesized CDK template.

pub mod app;
pub mod events;
pub mod gateway;
pub mod http_api;
pub mod pile_door;
pub mod poller;
pub mod provision;
pub mod routes;
pub mod scheduler;
pub mod sign_in;
pub mod template;
pub mod web;
