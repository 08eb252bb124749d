//! The reservation's types: its id, what it holds, its states and history, and the signals that
//! move it.

use chrono::{DateTime, Duration, Utc};
use std::fmt;

use crate::command::{CommandId, FailureReason};
use crate::id_token::IdToken;
use crate::station::{ConnectorType, ProtocolVersion, StationId};
use crate::status::{Availability, Component};

/// The OCPP reservationId: 1..=2^31-1 (an integer on the wire).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ReservationId(i32);

impl ReservationId {
    pub fn new(raw: i64) -> Option<Self> {
        i32::try_from(raw).ok().filter(|id| *id > 0).map(Self)
    }

    pub fn get(self) -> i32 {
        self.0
    }
}

impl fmt::Display for ReservationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// What a reservation holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Spot {
    /// A 1.6 connector, counted from 1.
    Connector(u32),
    /// A 2.0.1 EVSE, counted from 1.
    Evse(u32),
    /// Any connector of the station: the station keeps one free (1.6 connectorId 0, 2.0.1
    /// ReserveNow without evseId).
    Station,
}

impl Spot {
    /// The storage key: `connector#1`, `evse#2`, `station`.
    pub fn key(&self) -> String {
        match self {
            Spot::Connector(c) => format!("connector#{c}"),
            Spot::Evse(e) => format!("evse#{e}"),
            Spot::Station => "station".to_owned(),
        }
    }

    pub fn parse_key(key: &str) -> Option<Self> {
        match key.split_once('#') {
            None if key == "station" => Some(Spot::Station),
            Some(("connector", n)) => n.parse().ok().filter(|n| *n > 0).map(Spot::Connector),
            Some(("evse", n)) => n.parse().ok().filter(|n| *n > 0).map(Spot::Evse),
            _ => None,
        }
    }

    /// The number the commands carry (1.6 connectorId, 2.0.1 evseId); None for any connector.
    pub fn number(&self) -> Option<u32> {
        match self {
            Spot::Connector(n) | Spot::Evse(n) => Some(*n),
            Spot::Station => None,
        }
    }

    /// The spot of a connector or EVSE number in the station's version.
    pub fn numbered(protocol: ProtocolVersion, n: u32) -> Self {
        match protocol {
            ProtocolVersion::Ocpp16 => Spot::Connector(n),
            ProtocolVersion::Ocpp201 => Spot::Evse(n),
        }
    }

    /// Whether a status report about `component` is about this spot.
    pub fn covers(&self, component: Component) -> bool {
        match self {
            Spot::Connector(c) => component.evse.is_none() && component.connector == *c,
            Spot::Evse(e) => component.evse == Some(*e),
            Spot::Station => true,
        }
    }

    /// The spot a status component belongs to in `protocol` (1.6 connector 0, the station itself,
    /// belongs to none).
    pub fn of(protocol: ProtocolVersion, component: Component) -> Option<Self> {
        match (protocol, component.evse) {
            (ProtocolVersion::Ocpp16, None) if component.connector > 0 => Some(Spot::Connector(component.connector)),
            (ProtocolVersion::Ocpp201, Some(e)) if e > 0 => Some(Spot::Evse(e)),
            _ => None,
        }
    }
}

impl fmt::Display for Spot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Spot::Connector(c) => write!(f, "connector {c}"),
            Spot::Evse(e) => write!(f, "EVSE {e}"),
            Spot::Station => f.write_str("any connector"),
        }
    }
}

/// What the station last said about a spot, as far as reserving it goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpotStatus {
    Available,
    /// Charging, preparing, suspended, finishing, occupied.
    Occupied,
    Reserved,
    Faulted,
    Unavailable,
    /// No report yet.
    Unknown,
}

impl SpotStatus {
    fn of_word(word: &str) -> Self {
        match word {
            "Available" => SpotStatus::Available,
            "Reserved" => SpotStatus::Reserved,
            "Faulted" => SpotStatus::Faulted,
            "Unavailable" => SpotStatus::Unavailable,
            // 1.6 Preparing, Charging, SuspendedEV, SuspendedEVSE, Finishing; 2.0.1 Occupied.
            _ => SpotStatus::Occupied,
        }
    }

    /// The spot's status from the station's reports about it: the worst of its connectors (an EVSE
    /// with one connector in use is in use).
    pub fn of_spot(spot: Spot, availability: &[Availability]) -> Self {
        let rank = |s: SpotStatus| match s {
            SpotStatus::Faulted => 5,
            SpotStatus::Unavailable => 4,
            SpotStatus::Occupied => 3,
            SpotStatus::Reserved => 2,
            SpotStatus::Available => 1,
            SpotStatus::Unknown => 0,
        };
        availability
            .iter()
            .filter(|a| spot.covers(a.component) && (spot != Spot::Station || a.component.connector > 0))
            .map(|a| SpotStatus::of_word(&a.status))
            .max_by_key(|s| rank(*s))
            .unwrap_or(SpotStatus::Unknown)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SpotStatus::Available => "Available",
            SpotStatus::Occupied => "Occupied",
            SpotStatus::Reserved => "Reserved",
            SpotStatus::Faulted => "Faulted",
            SpotStatus::Unavailable => "Unavailable",
            SpotStatus::Unknown => "Unknown",
        }
    }
}

/// Where a reservation stands. Requested and Accepted are active; the rest are final.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    /// Recorded and on its way to the pile.
    Requested,
    /// The pile holds it.
    Accepted,
    /// The pile answered no (Occupied, Faulted, Unavailable, Rejected).
    Refused,
    /// A transaction started for it.
    Consumed,
    /// A driver, an operator or the station ended it.
    Cancelled,
    /// Its time ran out.
    Expired,
    /// The ReserveNow never got an answer (offline, disconnected, no answer in time, a CALLERROR).
    Failed,
}

impl State {
    pub const ACTIVE: &'static [State] = &[State::Requested, State::Accepted];
    pub const ALL: [State; 7] = [
        State::Requested,
        State::Accepted,
        State::Refused,
        State::Consumed,
        State::Cancelled,
        State::Expired,
        State::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            State::Requested => "Requested",
            State::Accepted => "Accepted",
            State::Refused => "Refused",
            State::Consumed => "Consumed",
            State::Cancelled => "Cancelled",
            State::Expired => "Expired",
            State::Failed => "Failed",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw)
    }

    pub fn is_active(self) -> bool {
        Self::ACTIVE.contains(&self)
    }
}

/// One step of a reservation's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub at: DateTime<Utc>,
    pub state: State,
    /// Why, in words: the pile's answer, who cancelled, which transaction consumed it.
    pub note: Option<String>,
}

impl Change {
    pub fn new(at: DateTime<Utc>, state: State, note: impl Into<Option<String>>) -> Self {
        Self {
            at,
            state,
            note: note.into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Reservation {
    pub id: ReservationId,
    pub station: StationId,
    /// The station's organisation when the reservation was made (its operators see it).
    pub organisation: Option<String>,
    /// The version the station spoke when it was made; its commands are written in it.
    pub protocol: ProtocolVersion,
    pub spot: Spot,
    /// The plug the driver asked for (2.0.1 ReserveNow connectorType).
    pub connector_type: Option<ConnectorType>,
    /// The driver's subject.
    pub driver: String,
    /// The id token it is held for, and its group (1.6 parentIdTag, 2.0.1 groupIdToken).
    pub token: IdToken,
    pub group: Option<IdToken>,
    pub created_at: DateTime<Utc>,
    pub expiry: DateTime<Utc>,
    /// The ReserveNow that carries it to the pile.
    pub command: CommandId,
    pub state: State,
    /// Oldest first; the last entry is the current state.
    pub history: Vec<Change>,
}

impl Reservation {
    /// The note of the change that set the current state (the refusal, the failure, ...).
    pub fn reason(&self) -> Option<&str> {
        self.history
            .iter()
            .rev()
            .find(|c| c.state == self.state)
            .and_then(|c| c.note.as_deref())
    }

    pub fn hold(&self) -> Hold {
        Hold {
            station: self.station.clone(),
            spot: self.spot,
            reservation: self.id,
            driver: self.driver.clone(),
            token: self.token.key(),
            group: self.group.as_ref().map(IdToken::key),
            expiry: self.expiry,
        }
    }
}

/// The lock a reservation takes on its spot while it is active.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hold {
    pub station: StationId,
    pub spot: Spot,
    pub reservation: ReservationId,
    pub driver: String,
    /// Registry keys ([`IdToken::key`]) of the reservation's token and group.
    pub token: String,
    pub group: Option<String>,
    /// A hold left behind by an interrupted release lapses at its reservation's expiry.
    pub expiry: DateTime<Utc>,
}

impl Hold {
    pub fn is_live(&self, now: DateTime<Utc>) -> bool {
        now < self.expiry
    }

    /// Whether a start by `token` (with the group its authorization gave) is the holder's (1.6
    /// section 5.13: the reserved idTag, or one with the reservation's parentIdTag).
    pub fn is_for(&self, token: &IdToken, group: Option<&IdToken>) -> bool {
        let key = token.key();
        key == self.token
            || self.group.as_deref() == Some(key.as_str())
            || group.is_some_and(|g| Some(g.key()) == self.group || g.key() == self.token)
    }
}

/// A reservation that ended in the CSMS while the pile may still hold it: cancelled on the pile
/// when it shows it does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leftover {
    pub station: StationId,
    pub reservation: ReservationId,
    pub protocol: ProtocolVersion,
    pub spot: Spot,
}

/// Deployment settings of reservations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReservationSettings {
    /// The longest reservation a driver may make.
    pub max_duration: Duration,
    /// At most one active reservation per driver.
    pub one_per_driver: bool,
}

impl ReservationSettings {
    pub const DEFAULT_MAX_MINUTES: i64 = 30;
    /// Longer holds keep a connector from every other driver for hours.
    pub const MAX_MAX_MINUTES: i64 = 24 * 60;
}

impl Default for ReservationSettings {
    fn default() -> Self {
        Self {
            max_duration: Duration::minutes(Self::DEFAULT_MAX_MINUTES),
            one_per_driver: true,
        }
    }
}

/// Which reservations a list shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReservationFilter {
    pub station: Option<StationId>,
    pub state: Option<State>,
}

impl ReservationFilter {
    pub fn matches(&self, r: &Reservation) -> bool {
        self.station.as_ref().is_none_or(|s| &r.station == s) && self.state.is_none_or(|s| r.state == s)
    }
}

/// The two commands of a reservation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReservationAction {
    ReserveNow,
    CancelReservation,
}

impl ReservationAction {
    pub fn parse(action: &str) -> Option<Self> {
        match action {
            "ReserveNow" => Some(Self::ReserveNow),
            "CancelReservation" => Some(Self::CancelReservation),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::ReserveNow => "ReserveNow",
            Self::CancelReservation => "CancelReservation",
        }
    }
}

/// How a reservation command ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The pile's answer: its `status` word (ReserveNow: Accepted, Occupied, Faulted, Unavailable,
    /// Rejected; CancelReservation: Accepted, Rejected).
    Status(String),
    /// The pile's CALLERROR.
    Refused { code: String, description: String },
    /// The command never got an answer.
    Failed(FailureReason),
}

/// What moves reservations: one message each on the reservations queue (FIFO per station).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signal {
    /// Recorded by the API: schedule its expiry and send ReserveNow.
    Requested { station: StationId, id: ReservationId },
    /// Its expiry is due (its one-time schedule fired).
    ExpiryDue { station: StationId, id: ReservationId },
    /// Cancelled by a driver or operator: drop its schedule, cancel it on the pile.
    Cancelled { station: StationId, id: ReservationId },
    /// A ReserveNow or CancelReservation for it ended.
    Answered {
        station: StationId,
        id: ReservationId,
        action: ReservationAction,
        outcome: Outcome,
    },
    /// A transaction started for it.
    Used {
        station: StationId,
        id: ReservationId,
        /// The transaction, as the station names it.
        transaction: String,
    },
    /// The station ended it itself (2.0.1 ReservationStatusUpdate): Expired, or Removed.
    StationEnded {
        station: StationId,
        id: ReservationId,
        removed: bool,
    },
    /// The station reports a connector Reserved (`at`: the report's own time, which tells one
    /// report from the next on a deduplicating queue).
    ReportedReserved {
        station: StationId,
        component: Component,
        at: DateTime<Utc>,
    },
    /// A configuration answer says whether the station reserves any connector.
    AnyConnector { station: StationId, supported: bool },
}

impl Signal {
    pub fn station(&self) -> &StationId {
        match self {
            Signal::Requested { station, .. }
            | Signal::ExpiryDue { station, .. }
            | Signal::Cancelled { station, .. }
            | Signal::Answered { station, .. }
            | Signal::Used { station, .. }
            | Signal::StationEnded { station, .. }
            | Signal::ReportedReserved { station, .. }
            | Signal::AnyConnector { station, .. } => station,
        }
    }
}

/// What a reservation that the pile held comes to, for pricing (billing's tariff dimension
/// `reservation`, and a no-show fee when it expired unused).
#[derive(Debug, Clone, PartialEq)]
pub struct ReservationUsage {
    pub station: StationId,
    pub reservation: ReservationId,
    pub organisation: Option<String>,
    pub driver: String,
    pub token: IdToken,
    pub from: DateTime<Utc>,
    pub until: DateTime<Utc>,
    pub ended: State,
}

impl ReservationUsage {
    /// A reservation nobody came for.
    pub fn no_show(&self) -> bool {
        self.ended == State::Expired
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::id_token::IdTokenType;

    fn status(evse: Option<u32>, connector: u32, word: &str) -> Availability {
        let at = Utc::now();
        Availability {
            station_id: StationId::parse("CP").unwrap(),
            component: Component { evse, connector },
            status: word.into(),
            error_code: None,
            since: at,
            reported_at: at,
        }
    }

    #[test]
    fn spot_keys_round_trip() {
        for spot in [Spot::Connector(2), Spot::Evse(1), Spot::Station] {
            assert_eq!(Spot::parse_key(&spot.key()), Some(spot));
        }
        for bad in ["connector#0", "evse#x", "stations", "evse#"] {
            assert_eq!(Spot::parse_key(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_spot_is_as_busy_as_its_busiest_connector() {
        let view = [
            status(Some(1), 1, "Available"),
            status(Some(1), 2, "Occupied"),
            status(Some(2), 1, "Available"),
            status(None, 1, "Charging"),
            status(None, 2, "Faulted"),
            status(None, 0, "Unavailable"),
        ];
        assert_eq!(SpotStatus::of_spot(Spot::Evse(1), &view), SpotStatus::Occupied);
        assert_eq!(SpotStatus::of_spot(Spot::Evse(2), &view), SpotStatus::Available);
        assert_eq!(SpotStatus::of_spot(Spot::Evse(3), &view), SpotStatus::Unknown);
        assert_eq!(SpotStatus::of_spot(Spot::Connector(1), &view), SpotStatus::Occupied);
        assert_eq!(SpotStatus::of_spot(Spot::Connector(2), &view), SpotStatus::Faulted);
    }

    #[test]
    fn a_hold_is_for_its_token_or_its_group() {
        let token = |t: &str| IdToken::parse_16(t).unwrap();
        let hold = Hold {
            station: StationId::parse("CP").unwrap(),
            spot: Spot::Connector(1),
            reservation: ReservationId::new(1).unwrap(),
            driver: "d".into(),
            token: "CARD-A".into(),
            group: Some("FLEET".into()),
            expiry: Utc::now(),
        };
        assert!(hold.is_for(&token("card-a"), None));
        assert!(hold.is_for(&token("CARD-B"), Some(&token("fleet"))));
        assert!(hold.is_for(&IdToken::parse_201("FLEET", IdTokenType::Central).unwrap(), None));
        assert!(!hold.is_for(&token("CARD-B"), None));
        assert!(!hold.is_for(&token("CARD-B"), Some(&token("OTHER"))));
    }

    #[test]
    fn reservation_ids_are_positive_int32() {
        assert_eq!(ReservationId::new(1).map(ReservationId::get), Some(1));
        assert_eq!(ReservationId::new(0), None);
        assert_eq!(ReservationId::new(1 << 31), None);
    }
}
