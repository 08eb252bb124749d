//! Making and cancelling a reservation: what the app API does at once, so the driver learns at
//! once whether they got the spot. The rest (the schedule, ReserveNow, the pile's answer) follows
//! on the reservations queue ([`super::on_signal`]).

use chrono::{DateTime, Duration, Utc};

use super::model::*;
use super::ports::*;
use crate::command::CommandId;
use crate::id_token::{AuthorizationStatus, IdToken};
use crate::ports::{
    AvailabilityRepository, ConnectionRepository, PublishError, StationRepository, StoreError, TokenRepository,
};
use crate::station::{ConnectorType, ProtocolVersion, Station, StationId};
use crate::status::Availability;

/// What a reserving driver may use.
#[derive(Clone, Copy)]
pub struct ReservePorts<'a> {
    pub store: &'a dyn ReservationStore,
    pub signals: &'a dyn ReservationSignals,
    pub tokens: &'a dyn TokenRepository,
    pub stations: &'a dyn StationRepository,
    pub connections: &'a dyn ConnectionRepository,
    pub availability: &'a dyn AvailabilityRepository,
    pub settings: ReservationSettings,
}

/// Which spot the driver asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpotRequest {
    /// Whichever free one fits (of `connector_type`, if given): the CSMS picks it.
    Pick,
    /// This connector (1.6) or EVSE (2.0.1).
    Numbered(u32),
    /// Any connector: the station keeps one free (where it supports that).
    AnyConnector,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ReserveRequest {
    pub station: StationId,
    /// The driver's subject; the token must be theirs.
    pub driver: String,
    pub token: IdToken,
    pub spot: SpotRequest,
    pub connector_type: Option<ConnectorType>,
    pub duration: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum ReserveError {
    #[error("a reservation lasts 1 to {max_minutes} minutes")]
    Duration { max_minutes: i64 },
    #[error("you have no such id token")]
    NotYourToken,
    #[error("id token {token} is {}", .status.as_str())]
    TokenNotAccepted { token: String, status: AuthorizationStatus },
    #[error("no station {0}")]
    UnknownStation(StationId),
    #[error("station {0} is offline: a reservation needs the station to hold it")]
    StationOffline(StationId),
    #[error("station {station} has no {spot}")]
    NoSuchSpot { station: StationId, spot: Spot },
    #[error("station {station} has no connector of type {kind}")]
    NoSuchConnectorType { station: StationId, kind: &'static str },
    #[error("{spot} of station {station} is {}", .status.as_str())]
    SpotBusy {
        station: StationId,
        spot: Spot,
        status: SpotStatus,
    },
    #[error("{spot} of station {station} is reserved by someone else")]
    SpotHeld { station: StationId, spot: Spot },
    #[error("station {0} has no free connector to reserve")]
    NoFreeSpot(StationId),
    #[error("station {0} does not say it can reserve any connector; name a connector")]
    AnyConnectorUnsupported(StationId),
    #[error("you already have an active reservation ({id} at station {station})")]
    DriverHasOne { station: StationId, id: ReservationId },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Publish(#[from] PublishError),
}

/// Reserves a spot for the driver's token: checks the rules, records the reservation with its
/// hold in one conditional transaction (of racing drivers exactly one wins) and queues it for the
/// reservations function, which schedules its expiry and sends ReserveNow as `command`.
pub async fn reserve(
    ports: ReservePorts<'_>,
    request: &ReserveRequest,
    command: CommandId,
    now: DateTime<Utc>,
) -> Result<Reservation, ReserveError> {
    let max = ports.settings.max_duration;
    if request.duration < Duration::minutes(1) || request.duration > max {
        return Err(ReserveError::Duration {
            max_minutes: max.num_minutes(),
        });
    }
    let station = ports
        .stations
        .get(&request.station)
        .await?
        .ok_or_else(|| ReserveError::UnknownStation(request.station.clone()))?;
    // A token works only at the stations of the organisation that issued it.
    let token = ports
        .tokens
        .get(station.organisation.as_deref(), &request.token)
        .await?
        .filter(|t| t.owner.as_deref() == Some(request.driver.as_str()))
        .ok_or(ReserveError::NotYourToken)?;
    let authorization = token.authorization(&request.token, now);
    if authorization.status != AuthorizationStatus::Accepted {
        return Err(ReserveError::TokenNotAccepted {
            token: token.token.to_string(),
            status: authorization.status,
        });
    }
    let connection = crate::connection::live(ports.connections, &station, now)
        .await?
        .ok_or_else(|| ReserveError::StationOffline(station.id.clone()))?;
    let protocol = connection.protocol;
    let availability = ports.availability.list(&station.id).await?;
    let candidates = match request.spot {
        SpotRequest::AnyConnector => {
            if ports.store.any_connector(&station.id).await? != Some(true) {
                return Err(ReserveError::AnyConnectorUnsupported(station.id.clone()));
            }
            vec![Spot::Station]
        }
        SpotRequest::Numbered(n) => {
            let spot = Spot::numbered(protocol, n);
            if !spots(&station, protocol, &availability, None).contains(&spot) && !station.connectors.is_empty() {
                return Err(ReserveError::NoSuchSpot {
                    station: station.id.clone(),
                    spot,
                });
            }
            match SpotStatus::of_spot(spot, &availability) {
                SpotStatus::Available | SpotStatus::Unknown => vec![spot],
                status => {
                    return Err(ReserveError::SpotBusy {
                        station: station.id.clone(),
                        spot,
                        status,
                    });
                }
            }
        }
        SpotRequest::Pick => {
            let fitting = spots(&station, protocol, &availability, request.connector_type);
            if fitting.is_empty()
                && let Some(kind) = request.connector_type
            {
                return Err(ReserveError::NoSuchConnectorType {
                    station: station.id.clone(),
                    kind: kind.as_str(),
                });
            }
            let held: Vec<Spot> = ports
                .store
                .holds(&station.id)
                .await?
                .into_iter()
                .filter(|h| h.is_live(now))
                .map(|h| h.spot)
                .collect();
            fitting
                .into_iter()
                .filter(|s| !held.contains(s))
                .filter(|s| {
                    matches!(
                        SpotStatus::of_spot(*s, &availability),
                        SpotStatus::Available | SpotStatus::Unknown
                    )
                })
                .collect()
        }
    };
    if candidates.is_empty() {
        return Err(ReserveError::NoFreeSpot(station.id.clone()));
    }

    let id = ports.store.next_id(&station.id).await?;
    let mut reservation = Reservation {
        id,
        station: station.id.clone(),
        organisation: station.organisation.clone(),
        protocol,
        spot: candidates[0],
        connector_type: request.connector_type,
        driver: request.driver.clone(),
        token: token.token.clone(),
        group: token.group.clone(),
        created_at: now,
        expiry: now + request.duration,
        command,
        state: State::Requested,
        history: vec![Change::new(now, State::Requested, None)],
    };
    let mut last_conflict = None;
    for spot in candidates {
        reservation.spot = spot;
        match ports
            .store
            .create(&reservation, ports.settings.one_per_driver, now)
            .await?
        {
            Ok(()) => {
                last_conflict = None;
                break;
            }
            Err(Conflict::DriverHasOne { station, id }) => return Err(ReserveError::DriverHasOne { station, id }),
            Err(Conflict::SpotHeld) => last_conflict = Some(spot),
        }
    }
    if let Some(spot) = last_conflict {
        return Err(match request.spot {
            SpotRequest::Pick => ReserveError::NoFreeSpot(station.id.clone()),
            _ => ReserveError::SpotHeld {
                station: station.id.clone(),
                spot,
            },
        });
    }
    let signal = Signal::Requested {
        station: station.id.clone(),
        id,
    };
    if let Err(e) = ports.signals.publish(&signal).await {
        // Nothing will send it: give the spot back rather than hold it for nobody.
        let change = Change::new(
            now,
            State::Failed,
            Some("could not be queued for the station".to_owned()),
        );
        if let Some(failed) = ports
            .store
            .transition(&station.id, id, &[State::Requested], &change)
            .await?
        {
            ports.store.release(&failed).await?;
        }
        return Err(e.into());
    }
    tracing::info!(station = %station.id, reservation = %id, spot = %reservation.spot, "reservation requested");
    Ok(reservation)
}

/// The station's spots in its version, from its declared connectors and the components it
/// reports on, of `kind` when given (only declared connectors have a type), in order.
fn spots(
    station: &Station,
    protocol: ProtocolVersion,
    availability: &[Availability],
    kind: Option<ConnectorType>,
) -> Vec<Spot> {
    let declared = station
        .connectors
        .iter()
        .filter(|c| kind.is_none_or(|k| c.kind == k))
        .filter_map(|c| Spot::of(protocol, c.component()));
    let reported = availability
        .iter()
        .filter(|_| kind.is_none())
        .filter_map(|a| Spot::of(protocol, a.component));
    let mut all: Vec<Spot> = declared.chain(reported).collect();
    all.sort();
    all.dedup();
    all
}

/// Who cancels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Canceller<'a> {
    /// The driver who made it.
    Driver(&'a str),
    /// An operator of the station's organisation.
    Operator { organisation: &'a str, subject: &'a str },
}

#[derive(Debug, thiserror::Error)]
pub enum CancelError {
    #[error("no such reservation")]
    NotFound,
    #[error("the reservation has already ended: it is {}", .0.state.as_str())]
    Ended(Box<Reservation>),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Publish(#[from] PublishError),
}

/// Cancels an active reservation: ended here at once (the spot is free again), then taken off
/// the pile by the reservations function. Someone else's reservation is NotFound.
pub async fn cancel(
    store: &dyn ReservationStore,
    signals: &dyn ReservationSignals,
    station: &StationId,
    id: ReservationId,
    by: Canceller<'_>,
    now: DateTime<Utc>,
) -> Result<Reservation, CancelError> {
    let reservation = store
        .get(station, id)
        .await?
        .filter(|r| match by {
            Canceller::Driver(subject) => r.driver == subject,
            Canceller::Operator { organisation, .. } => r.organisation.as_deref() == Some(organisation),
        })
        .ok_or(CancelError::NotFound)?;
    let note = match by {
        Canceller::Driver(_) => "cancelled by the driver".to_owned(),
        Canceller::Operator { subject, .. } => format!("cancelled by operator {subject}"),
    };
    let change = Change::new(now, State::Cancelled, Some(note));
    let Some(cancelled) = store.transition(station, id, State::ACTIVE, &change).await? else {
        let current = store.get(station, id).await?.ok_or(CancelError::NotFound)?;
        return Err(CancelError::Ended(Box::new(current)));
    };
    store.release(&cancelled).await?;
    if reservation.state == State::Accepted {
        store.add_leftover(&leftover(&cancelled), now).await?;
    }
    signals
        .publish(&Signal::Cancelled {
            station: station.clone(),
            id,
        })
        .await?;
    tracing::info!(station = %station, reservation = %id, "reservation cancelled");
    Ok(cancelled)
}

pub(super) fn leftover(r: &Reservation) -> Leftover {
    Leftover {
        station: r.station.clone(),
        reservation: r.id,
        protocol: r.protocol,
        spot: r.spot,
    }
}
