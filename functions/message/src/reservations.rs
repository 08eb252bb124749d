//! What the pile's messages tell reservations: a transaction that started for one, a 2.0.1
//! ReservationStatusUpdate, a connector reported Reserved. Each becomes a signal on the
//! reservations queue; the reservations function acts on it.

use chrono::{DateTime, Utc};
use csms_domain::reservation::{self, LifecycleError, ReservationId, ReservationServices, Signal, Spot, StartSeen};
use csms_domain::{SessionError, StationId, StoreError};

fn session_error(e: LifecycleError) -> SessionError {
    match e {
        LifecycleError::Store(e) => SessionError::Store(e),
        LifecycleError::Publish(e) => SessionError::Publish(e),
        other => SessionError::Store(StoreError::Backend(Box::new(other))),
    }
}

/// A transaction started: the reservation it names, or (1.6) the one holding `spot` for the token.
pub(crate) async fn started(
    reservations: &ReservationServices,
    start: &StartSeen<'_>,
    now: DateTime<Utc>,
) -> Result<(), SessionError> {
    let used = reservation::start_seen(&*reservations.store, &*reservations.signals, start, now)
        .await
        .map_err(session_error)?;
    if let Some(id) = used {
        tracing::info!(reservation = %id, transaction = %start.transaction, "transaction started for a reservation");
    }
    Ok(())
}

/// The station reports a connector Reserved: if the CSMS holds nothing there, the pile may still
/// hold a reservation that ended here.
pub(crate) async fn reported(
    reservations: &ReservationServices,
    report: &csms_domain::StatusReport,
) -> Result<(), SessionError> {
    if report.status != "Reserved" {
        return Ok(());
    }
    let signal = Signal::ReportedReserved {
        station: report.station_id.clone(),
        component: report.component,
        at: report.timestamp,
    };
    Ok(reservations.signals.publish(&signal).await?)
}

/// 2.0.1 ReservationStatusUpdate (H04): the station ended a reservation itself.
pub(crate) async fn station_ended(
    reservations: &ReservationServices,
    station: &StationId,
    reservation_id: i32,
    removed: bool,
) -> Result<(), SessionError> {
    // The schema admits any integer; ids the CSMS never hands out match nothing.
    let Some(id) = ReservationId::new(reservation_id.into()) else {
        tracing::warn!(
            reservation_id,
            "ReservationStatusUpdate for a reservation id the CSMS never gives"
        );
        return Ok(());
    };
    let signal = Signal::StationEnded {
        station: station.clone(),
        id,
        removed,
    };
    Ok(reservations.signals.publish(&signal).await?)
}

pub(crate) fn spot_16(connector: u32) -> Option<Spot> {
    (connector > 0).then_some(Spot::Connector(connector))
}
