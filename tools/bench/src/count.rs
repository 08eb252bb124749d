//! Counting SDK calls with an interceptor, by service and operation name.
//!
//! The operation's `Metadata` is stored in the config bag by the operation's runtime plugin,
//! which the orchestrator applies *after* the client interceptors' `read_before_execution` has
//! run; so a client-level interceptor reads it in `read_before_serialization` (once per
//! operation) and in `read_before_attempt` (once per HTTP attempt, retries included).

use aws_sdk_dynamodb::config::interceptors::{
    BeforeSerializationInterceptorContextRef, BeforeTransmitInterceptorContextRef,
};
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// How often one operation was called.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Executions (what the code asked for).
    pub operations: u64,
    /// HTTP attempts; more than `operations` means the SDK retried.
    pub attempts: u64,
}

/// Key: (service, operation), e.g. ("DynamoDB", "GetItem").
pub type Counts = BTreeMap<(String, String), Tally>;

/// Shared by the interceptors of every client; read and reset by the benchmark.
#[derive(Debug, Default)]
pub struct Calls(Mutex<Counts>);

impl Calls {
    fn record(&self, cfg: &ConfigBag, bump: impl FnOnce(&mut Tally)) {
        let (service, operation) = match cfg.load::<Metadata>() {
            Some(m) => (m.service().to_owned(), m.name().to_owned()),
            None => ("?".to_owned(), "?".to_owned()),
        };
        bump(self.0.lock().unwrap().entry((service, operation)).or_default());
    }

    /// The counts since the last call, and a fresh start.
    pub fn take(&self) -> Counts {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

/// The interceptor, one per client, all sharing one [`Calls`].
#[derive(Debug, Clone)]
pub struct CountCalls(pub Arc<Calls>);

impl Intercept for CountCalls {
    fn name(&self) -> &'static str {
        "CountCalls"
    }

    fn read_before_serialization(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.0.record(cfg, |t| t.operations += 1);
        Ok(())
    }

    fn read_before_attempt(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.0.record(cfg, |t| t.attempts += 1);
        Ok(())
    }
}
