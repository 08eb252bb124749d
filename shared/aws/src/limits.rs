//! `LimitsTable`: the shared counts of the rate limits (`pk = <key>#<window>`, `count`) and each
//! driver's pending remote command (`pk = pending#<subject>`). Every item expires (TTL
//! `expiresAt`): counts shortly after their window, pending commands a day after their deadline.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use chrono::{DateTime, Duration, Utc};
use csms_domain::command::CommandId;
use csms_domain::limits::{Counters, PendingCommand, PendingCommands};
use csms_domain::{StationId, StoreError};

use crate::attributes::*;
use crate::dynamo::{Table, backend, condition_failed};

pub struct Limits(pub Table);

fn pending_key(requester: &str) -> String {
    format!("pending#{requester}")
}

fn ttl(t: DateTime<Utc>) -> AttributeValue {
    n(t.timestamp())
}

#[async_trait]
impl Counters for Limits {
    async fn add(&self, key: &str, count: u32, expires_at: DateTime<Utc>) -> Result<u64, StoreError> {
        let out = self
            .0
            .client
            .update_item()
            .table_name(self.0.name()?)
            .key("pk", s(key))
            .update_expression("ADD #count :n SET #expires = :expires")
            .expression_attribute_names("#count", "count")
            .expression_attribute_names("#expires", "expiresAt")
            .expression_attribute_values(":n", n(count))
            .expression_attribute_values(":expires", ttl(expires_at))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await
            .map_err(backend)?;
        out.attributes
            .as_ref()
            .and_then(|a| a.get("count"))
            .and_then(|v| v.as_n().ok())
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| backend(Malformed("count")))
    }
}

#[async_trait]
impl PendingCommands for Limits {
    async fn get(&self, requester: &str) -> Result<Option<PendingCommand>, StoreError> {
        let out = self
            .0
            .client
            .get_item()
            .table_name(self.0.name()?)
            .key("pk", s(pending_key(requester)))
            .consistent_read(true)
            .send()
            .await
            .map_err(backend)?;
        let Some(item) = out.item else {
            return Ok(None);
        };
        let malformed = |name| backend(Malformed(name));
        Ok(Some(PendingCommand {
            station: StationId::parse(&get_s(&item, "stationId").map_err(backend)?)
                .map_err(|_| malformed("stationId"))?,
            id: CommandId::parse(&get_s(&item, "commandId").map_err(backend)?).map_err(|_| malformed("commandId"))?,
            deadline: get_time(&item, "deadline").map_err(backend)?,
        }))
    }

    async fn replace(
        &self,
        requester: &str,
        next: &PendingCommand,
        expected: Option<&CommandId>,
    ) -> Result<bool, StoreError> {
        let mut put = self
            .0
            .client
            .put_item()
            .table_name(self.0.name()?)
            .item("pk", s(pending_key(requester)))
            .item("stationId", s(next.station.as_str()))
            .item("commandId", s(next.id.as_str()))
            .item("deadline", time(next.deadline))
            .item("expiresAt", ttl(next.deadline + Duration::days(1)));
        put = match expected {
            None => put.condition_expression("attribute_not_exists(pk)"),
            Some(id) => put
                .condition_expression("commandId = :expected")
                .expression_attribute_values(":expected", s(id.as_str())),
        };
        match put.send().await {
            Ok(_) => Ok(true),
            Err(e) if condition_failed(&e) => Ok(false),
            Err(e) => Err(backend(e)),
        }
    }
}
