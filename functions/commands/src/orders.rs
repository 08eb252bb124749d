//! The domain's orders written in OCPP (csms-ocpp's typed builders) and queued as remote
//! commands: the adapter of [`csms_domain::order::Orders`].

use async_trait::async_trait;
use csms_domain::command::{self, Command};
use csms_domain::order::{Envelope, Order, OrderError, Orders};
use csms_domain::ports::CommandQueue;
use csms_domain::{IdToken, ProtocolVersion, TransactionKey};
use csms_ocpp::outgoing::{self, Outgoing, Token};
use std::sync::Arc;

use crate::request::{self, RequestError, ocpp_version};

pub struct OcppOrders {
    pub queue: Arc<dyn CommandQueue>,
}

fn token(t: &IdToken) -> Token<'_> {
    Token {
        value: t.as_str(),
        kind: t.kind().map(|k| k.as_str()),
    }
}

/// The order in the station's version.
pub fn write(order: &Order<'_>, protocol: ProtocolVersion) -> Result<Outgoing, OrderError> {
    let v = ocpp_version(protocol);
    let unwritable = |e: outgoing::BuildError| OrderError::Unwritable(e.to_string());
    match order {
        Order::RemoteStart { token: t, group, spot } => outgoing::remote_start(
            v,
            &outgoing::RemoteStart {
                token: token(t),
                group: group.map(token),
                spot: *spot,
                remote_start_id: request::remote_start_id(),
            },
        )
        .map_err(unwritable),
        Order::RemoteStop { transaction } => {
            let raw = match transaction {
                TransactionKey::Ocpp16(id) => id.get().to_string(),
                TransactionKey::Ocpp201(id) => id.as_str().to_owned(),
            };
            outgoing::remote_stop(v, &raw).map_err(unwritable)
        }
        Order::ReserveNow(r) => outgoing::reserve_now(
            v,
            &outgoing::ReserveNow {
                reservation_id: r.id.get(),
                expiry: r.expiry,
                token: token(&r.token),
                group: r.group.as_ref().map(token),
                spot: r.spot.number(),
                // 1.6 has no connector type; 2.0.1 carries the one asked for.
                connector_type: r
                    .connector_type
                    .filter(|_| protocol == ProtocolVersion::Ocpp201)
                    .map(|t| t.as_str()),
            },
        )
        .map_err(unwritable),
        Order::CancelReservation(id) => Ok(outgoing::cancel_reservation(v, id.get())),
    }
}

#[async_trait]
impl Orders for OcppOrders {
    async fn send(&self, order: &Order<'_>, envelope: Envelope) -> Result<Command, OrderError> {
        let written = write(order, envelope.protocol)?;
        let id = envelope.id.unwrap_or_else(request::new_id);
        let mut command = request::new_command_with_id(
            id,
            envelope.station,
            envelope.protocol,
            written.action,
            written.payload,
            envelope.timeout,
            envelope.now,
        )
        .map_err(|e| match e {
            // The schema check refused what the builder wrote: a value the version cannot carry
            // (an id token too long for 1.6, ...).
            RequestError::Payload(e) => OrderError::Unwritable(e.to_string()),
            other => OrderError::Unwritable(other.to_string()),
        })?;
        command.requested_by = envelope.requested_by;
        command::submit(&*self.queue, &command).await?;
        Ok(command)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, Utc};
    use csms_domain::command::CommandId;
    use csms_domain::memory::MemoryCommandQueue;
    use csms_domain::reservation::{Change, Reservation};
    use csms_domain::reservation::{ReservationId, Spot, State};
    use csms_domain::{IdTokenType, StationId};
    use serde_json::{Value, json};

    fn reservation(protocol: ProtocolVersion, spot: Spot) -> Reservation {
        let now = Utc::now();
        Reservation {
            id: ReservationId::new(12).unwrap(),
            station: StationId::parse("CP-1").unwrap(),
            organisation: None,
            protocol,
            spot,
            connector_type: Some(csms_domain::ConnectorType::CCcs2),
            driver: "alice".into(),
            token: IdToken::parse_201("CARD-A", IdTokenType::Iso14443).unwrap(),
            group: None,
            created_at: now,
            expiry: now + Duration::minutes(15),
            command: CommandId::parse("c-1").unwrap(),
            state: State::Requested,
            history: vec![Change::new(now, State::Requested, None)],
        }
    }

    #[tokio::test]
    async fn a_reserve_now_is_queued_under_its_recorded_id_in_the_stations_version() {
        let queue = Arc::new(MemoryCommandQueue::default());
        let orders = OcppOrders { queue: queue.clone() };
        let r = reservation(ProtocolVersion::Ocpp201, Spot::Evse(2));
        let envelope = Envelope::new(&r.station, r.protocol, Utc::now()).with_id(r.command.clone());
        let command = orders.send(&Order::ReserveNow(&r), envelope).await.unwrap();
        assert_eq!((command.id.as_str(), command.action.as_str()), ("c-1", "ReserveNow"));
        let payload: Value = serde_json::from_str(&command.payload).unwrap();
        assert_eq!(payload["evseId"], 2);
        assert_eq!(payload["connectorType"], "cCCS2");
        assert_eq!(payload["idToken"], json!({"idToken": "CARD-A", "type": "ISO14443"}));
        assert_eq!(queue.submitted.lock().unwrap().len(), 1);
        // In 1.6 the connector is the spot and there is no connector type.
        let r16 = reservation(ProtocolVersion::Ocpp16, Spot::Connector(1));
        let written = write(&Order::ReserveNow(&r16), ProtocolVersion::Ocpp16).unwrap();
        assert_eq!(written.payload["connectorId"], 1);
        assert!(written.payload.get("connectorType").is_none());
    }

    #[tokio::test]
    async fn what_a_version_cannot_carry_is_refused_before_it_is_queued() {
        let queue = Arc::new(MemoryCommandQueue::default());
        let orders = OcppOrders { queue: queue.clone() };
        // A 2.0.1 token of 36 characters does not fit a 1.6 idTag (20).
        let long = IdToken::parse_201(&"T".repeat(36), IdTokenType::Central).unwrap();
        let station = StationId::parse("CP-1").unwrap();
        let order = Order::RemoteStart {
            token: &long,
            group: None,
            spot: Some(1),
        };
        let e = orders
            .send(&order, Envelope::new(&station, ProtocolVersion::Ocpp16, Utc::now()))
            .await
            .unwrap_err();
        assert!(
            matches!(e, OrderError::Unwritable(ref why) if why.contains("idTag")),
            "{e}"
        );
        assert!(queue.submitted.lock().unwrap().is_empty());
    }
}
