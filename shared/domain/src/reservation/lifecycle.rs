//! The reservations function's work: one [`Signal`] at a time, per station in order, each
//! idempotent (every transition is conditional on the state it leaves; a redelivered signal finds
//! the work done).

use chrono::{DateTime, Duration, Utc};

use super::model::*;
use super::ports::*;
use super::reserve::leftover;
use crate::command::FailureReason;
use crate::id_token::IdToken;
use crate::order::{Envelope, Order, OrderError, Orders};
use crate::ports::{AvailabilityRepository, ConnectionRepository, PublishError, StationRepository, StoreError};
use crate::station::StationId;

/// What the reservations function uses.
#[derive(Clone, Copy)]
pub struct LifecyclePorts<'a> {
    pub store: &'a dyn ReservationStore,
    pub schedules: &'a dyn ExpirySchedules,
    pub fees: &'a dyn ReservationFees,
    pub orders: &'a dyn Orders,
    pub stations: &'a dyn StationRepository,
    pub connections: &'a dyn ConnectionRepository,
    pub availability: &'a dyn AvailabilityRepository,
}

#[derive(Debug, thiserror::Error)]
pub enum LifecycleError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Publish(#[from] PublishError),
    #[error(transparent)]
    Order(#[from] OrderError),
    /// The expiry signal came before the expiry (more than the allowed skew): try again later.
    #[error("the expiry signal came early; the reservation expires at {0}")]
    Early(DateTime<Utc>),
}

/// How far before its expiry an expiry signal is taken as due (clocks of the scheduler and the
/// function may differ slightly).
const EXPIRY_SKEW: Duration = Duration::seconds(2);

/// Acts on one signal.
pub async fn on_signal(ports: LifecyclePorts<'_>, signal: &Signal, now: DateTime<Utc>) -> Result<(), LifecycleError> {
    let store = ports.store;
    match signal {
        Signal::Requested { station, id } => {
            let Some(r) = store.get(station, *id).await? else {
                tracing::warn!(station = %station, reservation = %id, "requested reservation not found");
                return Ok(());
            };
            if r.state != State::Requested {
                // Ended before it went out (a quick cancel): nothing to send.
                ports.schedules.unschedule(station, *id).await?;
                return Ok(());
            }
            ports.schedules.schedule(&r).await?;
            // Under the command id recorded with it: a redelivery sends nothing twice.
            let envelope = Envelope::new(station, r.protocol, now).with_id(r.command.clone());
            match ports.orders.send(&Order::ReserveNow(&r), envelope).await {
                Ok(_) => Ok(()),
                Err(OrderError::Unwritable(why)) => {
                    end(ports, &r, &[State::Requested], State::Failed, Some(why), now).await?;
                    Ok(())
                }
                Err(e) => Err(e.into()),
            }
        }
        Signal::ExpiryDue { station, id } => {
            let Some(r) = store.get(station, *id).await? else {
                return Ok(());
            };
            if !r.state.is_active() {
                return Ok(());
            }
            if now + EXPIRY_SKEW < r.expiry {
                return Err(LifecycleError::Early(r.expiry));
            }
            let was_held = r.state == State::Accepted;
            if end(ports, &r, State::ACTIVE, State::Expired, None, now)
                .await?
                .is_some()
                && was_held
            {
                // Ended here whatever the pile's clock says; if the pile still shows it, take it
                // off now, else when the pile shows it (it may be offline).
                let left = leftover(&r);
                store.add_leftover(&left, now).await?;
                let view = ports.availability.list(station).await?;
                if SpotStatus::of_spot(r.spot, &view) == SpotStatus::Reserved {
                    cancel_on_pile(ports, &left, now).await?;
                }
            }
            Ok(())
        }
        Signal::Cancelled { station, id } => {
            ports.schedules.unschedule(station, *id).await?;
            if let Some(left) = store
                .leftovers(station)
                .await?
                .into_iter()
                .find(|l| l.reservation == *id)
            {
                cancel_on_pile(ports, &left, now).await?;
            }
            Ok(())
        }
        Signal::Answered {
            station,
            id,
            action: ReservationAction::ReserveNow,
            outcome,
        } => {
            let Some(r) = store.get(station, *id).await? else {
                return Ok(());
            };
            match outcome {
                Outcome::Status(word) if word == "Accepted" => {
                    let change = Change::new(now, State::Accepted, Some("held by the station".to_owned()));
                    if store
                        .transition(station, *id, &[State::Requested], &change)
                        .await?
                        .is_none()
                        && !r.state.is_active()
                    {
                        // The pile took it after it ended here: take it off again.
                        let left = leftover(&r);
                        store.add_leftover(&left, now).await?;
                        cancel_on_pile(ports, &left, now).await?;
                    }
                }
                Outcome::Status(word) => {
                    let note = format!("the station answered {word}");
                    end(ports, &r, &[State::Requested], State::Refused, Some(note), now).await?;
                }
                Outcome::Refused { code, description } => {
                    let note = format!("the station refused the command: {code} {description}");
                    end(
                        ports,
                        &r,
                        &[State::Requested],
                        State::Failed,
                        Some(note.trim_end().to_owned()),
                        now,
                    )
                    .await?;
                }
                Outcome::Failed(reason) => {
                    let ended = end(
                        ports,
                        &r,
                        &[State::Requested],
                        State::Failed,
                        Some(reason.describe().to_owned()),
                        now,
                    )
                    .await?;
                    // Sent, but the answer was lost: the pile may hold it.
                    if ended.is_some() && matches!(reason, FailureReason::Disconnected | FailureReason::DeadlineExpired)
                    {
                        store.add_leftover(&leftover(&r), now).await?;
                    }
                }
            }
            Ok(())
        }
        Signal::Answered {
            station,
            id,
            action: ReservationAction::CancelReservation,
            outcome,
        } => {
            match outcome {
                // Accepted: removed; Rejected: the pile held none by that id. Either way, done.
                Outcome::Status(_) | Outcome::Refused { .. } => store.remove_leftover(station, *id).await?,
                // Not delivered: try again when the pile shows it still holds it.
                Outcome::Failed(reason) => {
                    tracing::info!(station = %station, reservation = %id, reason = reason.as_str(), "CancelReservation not delivered; kept for when the station is back");
                }
            }
            Ok(())
        }
        Signal::Used {
            station,
            id,
            transaction,
        } => {
            store.remove_leftover(station, *id).await?;
            if let Some(r) = store.get(station, *id).await? {
                let note = format!("transaction {transaction} started");
                end(ports, &r, State::ACTIVE, State::Consumed, Some(note), now).await?;
            }
            Ok(())
        }
        Signal::StationEnded { station, id, removed } => {
            store.remove_leftover(station, *id).await?;
            if let Some(r) = store.get(station, *id).await? {
                let (state, note) = if *removed {
                    (State::Cancelled, "removed by the station")
                } else {
                    (State::Expired, "expired at the station")
                };
                end(ports, &r, State::ACTIVE, state, Some(note.to_owned()), now).await?;
            }
            Ok(())
        }
        Signal::ReportedReserved { station, component, .. } => {
            let ours = store
                .holds(station)
                .await?
                .into_iter()
                .any(|h| h.is_live(now) && (h.spot == Spot::Station || h.spot.covers(*component)));
            if ours {
                return Ok(());
            }
            for left in store.leftovers(station).await? {
                if left.spot == Spot::Station || left.spot.covers(*component) {
                    cancel_on_pile(ports, &left, now).await?;
                }
            }
            Ok(())
        }
        Signal::AnyConnector { station, supported } => {
            store.set_any_connector(station, *supported).await?;
            Ok(())
        }
    }
}

/// Ends an active reservation in `state`: the spot and the driver are free again, its schedule
/// goes, and a reservation the pile held is handed to pricing. None when it was not in `from`
/// (another signal ended it first); its hold is then released again, in case the earlier
/// attempt stopped half-way.
async fn end(
    ports: LifecyclePorts<'_>,
    r: &Reservation,
    from: &[State],
    state: State,
    note: Option<String>,
    now: DateTime<Utc>,
) -> Result<Option<Reservation>, LifecycleError> {
    let change = Change::new(now, state, note);
    let Some(ended) = ports.store.transition(&r.station, r.id, from, &change).await? else {
        if let Some(current) = ports.store.get(&r.station, r.id).await?
            && !current.state.is_active()
        {
            ports.store.release(&current).await?;
        }
        return Ok(None);
    };
    ports.store.release(&ended).await?;
    ports.schedules.unschedule(&r.station, r.id).await?;
    if let Some(accepted) = ended.history.iter().find(|c| c.state == State::Accepted) {
        let usage = ReservationUsage {
            station: ended.station.clone(),
            reservation: ended.id,
            organisation: ended.organisation.clone(),
            driver: ended.driver.clone(),
            token: ended.token.clone(),
            from: accepted.at,
            until: now.min(ended.expiry),
            ended: state,
        };
        ports.fees.ended(&usage).await?;
    }
    tracing::info!(station = %r.station, reservation = %r.id, state = state.as_str(), "reservation ended");
    Ok(Some(ended))
}

/// Sends CancelReservation for a reservation the pile may still hold, in the version the pile
/// speaks now; when it is offline, nothing (it is tried again when the pile shows it holds it).
async fn cancel_on_pile(ports: LifecyclePorts<'_>, left: &Leftover, now: DateTime<Utc>) -> Result<(), LifecycleError> {
    let Some(station) = ports.stations.get(&left.station).await? else {
        return Ok(());
    };
    let Some(connection) = crate::connection::live(ports.connections, &station, now).await? else {
        tracing::info!(station = %left.station, reservation = %left.reservation, "station offline; its reservation is cancelled when it is back");
        return Ok(());
    };
    let envelope = Envelope::new(&left.station, connection.protocol, now);
    ports
        .orders
        .send(&Order::CancelReservation(left.reservation), envelope)
        .await?;
    tracing::info!(station = %left.station, reservation = %left.reservation, "CancelReservation sent");
    Ok(())
}

/// A transaction the station started, as far as reservations care (see [`start_seen`]).
#[derive(Debug, Clone, PartialEq)]
pub struct StartSeen<'a> {
    pub station: &'a StationId,
    /// The reservationId the station sent with it.
    pub reservation: Option<i32>,
    /// Where it started (1.6: the connector), for a start without a reservationId.
    pub spot: Option<Spot>,
    pub token: Option<&'a IdToken>,
    /// The group the token's authorization gave.
    pub group: Option<&'a IdToken>,
    /// The transaction, as the station names it.
    pub transaction: String,
}

/// Tells the reservations function that a transaction started for a reservation: the one the
/// station named, or (1.6 section 5.13) the one holding the connector for the starting token or
/// its group. Costs one read of the connector's hold when no reservationId was sent.
pub async fn start_seen(
    store: &dyn ReservationStore,
    signals: &dyn ReservationSignals,
    start: &StartSeen<'_>,
    now: DateTime<Utc>,
) -> Result<Option<ReservationId>, LifecycleError> {
    let id = match (
        start.reservation.and_then(|r| ReservationId::new(r.into())),
        start.spot,
        start.token,
    ) {
        (Some(id), _, _) => Some(id),
        (None, Some(spot), Some(token)) => store
            .hold(start.station, spot)
            .await?
            .filter(|h| h.is_live(now) && h.is_for(token, start.group))
            .map(|h| h.reservation),
        _ => None,
    };
    if let Some(id) = id {
        signals
            .publish(&Signal::Used {
                station: start.station.clone(),
                id,
                transaction: start.transaction.clone(),
            })
            .await?;
    }
    Ok(id)
}
