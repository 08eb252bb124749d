//! Reservations consumer: moves reservations along, one signal at a time per station
//! (ReservationEventsQueue, FIFO, group = station id): a new reservation gets its expiry schedule
//! and its ReserveNow; the pile's answers, transactions that start for it, its expiry and the
//! station's own updates end it (csms-domain `reservation::on_signal`).
//!
//! The expiry schedules (EventBridge Scheduler) deliver their signal to the same queue, so an
//! expiry waits behind the station's earlier signals like any other. Idempotent: a redelivered
//! signal finds its work done. A signal that cannot be read can never succeed: after its retries
//! the redrive policy moves it to the dead-letter queue. Partial batch failures.

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use chrono::Utc;
use commands::orders::OcppOrders;
use csms_aws::lambda::fifo_batch;
use csms_aws::reservations::SignalV1;
use csms_domain::Services;
use csms_domain::reservation::{self, LifecyclePorts, ReservationServices};

pub async fn handle(
    services: &Services,
    reservations: &ReservationServices,
    event: SqsEvent,
) -> Result<SqsBatchResponse, lambda_runtime::Error> {
    Ok(fifo_batch(
        event,
        |record| async move { process(services, reservations, record).await },
    )
    .await)
}

async fn process(
    services: &Services,
    reservations: &ReservationServices,
    record: SqsMessage,
) -> Result<(), lambda_runtime::Error> {
    let body = record.body.as_deref().unwrap_or_default();
    let signal = SignalV1::parse(body).map_err(|e| format!("{e}: {body:.200}"))?;
    let orders = OcppOrders {
        queue: services.commands.queue.clone(),
    };
    let ports = LifecyclePorts {
        store: &*reservations.store,
        schedules: &*reservations.schedules,
        fees: &*reservations.fees,
        orders: &orders,
        stations: &*services.stations,
        connections: &*services.connections,
        availability: &*services.availability,
    };
    tracing::debug!(station = %signal.station(), ?signal, "reservation signal");
    reservation::on_signal(ports, &signal, Utc::now()).await?;
    Ok(())
}
