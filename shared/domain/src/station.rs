//! Stations as the operator registers them and as they report themselves.

use chrono::{DateTime, Utc};
use std::fmt;

use crate::credentials::PasswordHash;

/// A charging station's identity: the last path segment of its OCPP URL and the Basic-auth user.
/// At most 48 characters from OCPP 2.0.1's identifierString set, without ':' (Basic auth splits on it).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StationId(String);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum StationIdError {
    #[error("station id is empty")]
    Empty,
    #[error("station id is longer than 48 characters")]
    TooLong,
    #[error("station id may only contain a-z A-Z 0-9 and * - _ = + | @ .")]
    InvalidCharacter,
}

impl StationId {
    pub const MAX_LEN: usize = 48;

    pub fn parse(raw: &str) -> Result<Self, StationIdError> {
        if raw.is_empty() {
            return Err(StationIdError::Empty);
        }
        if raw.len() > Self::MAX_LEN {
            return Err(StationIdError::TooLong);
        }
        let allowed = |c: char| c.is_ascii_alphanumeric() || "*-_=+|@.".contains(c);
        if !raw.chars().all(allowed) {
            return Err(StationIdError::InvalidCharacter);
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for StationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The OCPP versions a station may speak, named by their WebSocket subprotocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProtocolVersion {
    Ocpp16,
    Ocpp201,
}

impl ProtocolVersion {
    pub const ALL: [ProtocolVersion; 2] = [ProtocolVersion::Ocpp16, ProtocolVersion::Ocpp201];

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "ocpp1.6" => Some(Self::Ocpp16),
            "ocpp2.0.1" => Some(Self::Ocpp201),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ocpp16 => "ocpp1.6",
            Self::Ocpp201 => "ocpp2.0.1",
        }
    }
}

impl fmt::Display for ProtocolVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The operator's decision about a station; BootNotification answers with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Registration {
    Accepted,
    Pending,
    Rejected,
}

impl Registration {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "Accepted" => Some(Self::Accepted),
            "Pending" => Some(Self::Pending),
            "Rejected" => Some(Self::Rejected),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Accepted => "Accepted",
            Self::Pending => "Pending",
            Self::Rejected => "Rejected",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GeoPoint {
    latitude: f64,
    longitude: f64,
}

impl GeoPoint {
    pub fn new(latitude: f64, longitude: f64) -> Option<Self> {
        let valid = (-90.0..=90.0).contains(&latitude) && (-180.0..=180.0).contains(&longitude);
        valid.then_some(Self { latitude, longitude })
    }

    pub fn latitude(&self) -> f64 {
        self.latitude
    }

    pub fn longitude(&self) -> f64 {
        self.longitude
    }
}

/// A connector's plug or socket, in OCPP 2.0.1's ConnectorEnumType words (CHAdeMO is `cG105`,
/// JEVS G105), so the same words go to 2.0.1 stations (e.g. ReserveNow) unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConnectorType {
    CCcs1,
    CCcs2,
    CG105,
    CTesla,
    CType1,
    CType2,
    S309_1P16A,
    S309_1P32A,
    S309_3P16A,
    S309_3P32A,
    SBs1361,
    SCee77,
    SType2,
    SType3,
    Other1PhMax16A,
    Other1PhOver16A,
    Other3Ph,
    Pan,
    WInductive,
    WResonant,
    Undetermined,
    Unknown,
}

impl ConnectorType {
    pub const ALL: [ConnectorType; 22] = [
        Self::CCcs1,
        Self::CCcs2,
        Self::CG105,
        Self::CTesla,
        Self::CType1,
        Self::CType2,
        Self::S309_1P16A,
        Self::S309_1P32A,
        Self::S309_3P16A,
        Self::S309_3P32A,
        Self::SBs1361,
        Self::SCee77,
        Self::SType2,
        Self::SType3,
        Self::Other1PhMax16A,
        Self::Other1PhOver16A,
        Self::Other3Ph,
        Self::Pan,
        Self::WInductive,
        Self::WResonant,
        Self::Undetermined,
        Self::Unknown,
    ];

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == raw)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::CCcs1 => "cCCS1",
            Self::CCcs2 => "cCCS2",
            Self::CG105 => "cG105",
            Self::CTesla => "cTesla",
            Self::CType1 => "cType1",
            Self::CType2 => "cType2",
            Self::S309_1P16A => "s309-1P-16A",
            Self::S309_1P32A => "s309-1P-32A",
            Self::S309_3P16A => "s309-3P-16A",
            Self::S309_3P32A => "s309-3P-32A",
            Self::SBs1361 => "sBS1361",
            Self::SCee77 => "sCEE-7-7",
            Self::SType2 => "sType2",
            Self::SType3 => "sType3",
            Self::Other1PhMax16A => "Other1PhMax16A",
            Self::Other1PhOver16A => "Other1PhOver16A",
            Self::Other3Ph => "Other3Ph",
            Self::Pan => "Pan",
            Self::WInductive => "wInductive",
            Self::WResonant => "wResonant",
            Self::Undetermined => "Undetermined",
            Self::Unknown => "Unknown",
        }
    }
}

/// A connector as the operator declares it: what a driver can plug in and how fast it charges.
/// Its live status comes from the station's StatusNotifications, keyed the same way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Connector {
    /// The 2.0.1 EVSE the connector belongs to; None for 1.6 stations, which have no EVSEs.
    pub evse_id: Option<u32>,
    /// Counted from 1 (1.6: on the station; 2.0.1: on its EVSE). 1.6's connector 0 is the
    /// station itself, not a connector.
    pub connector_id: u32,
    pub kind: ConnectorType,
    /// The most it delivers, in W.
    pub max_power_w: u32,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConnectorError {
    #[error("connector ids and EVSE ids count from 1")]
    ZeroId,
    #[error("connector {0} is declared twice")]
    Duplicate(String),
    #[error("maximum power must be 1 W to {max} W", max = Connector::MAX_POWER_W)]
    Power,
    #[error("at most {max} connectors per station", max = Connector::MAX_PER_STATION)]
    TooMany,
}

impl Connector {
    /// Above today's megawatt charging (MCS, 3.75 MW): a larger number is a typing error.
    pub const MAX_POWER_W: u32 = 4_000_000;
    pub const MAX_PER_STATION: usize = 64;

    /// The live-status key the station reports this connector under.
    pub fn component(&self) -> crate::status::Component {
        crate::status::Component {
            evse: self.evse_id,
            connector: self.connector_id,
        }
    }

    /// Checks a station's declared connectors (ids from 1, each (EVSE, connector) once, power in
    /// range) and orders them by EVSE and connector.
    pub fn check_all(mut connectors: Vec<Connector>) -> Result<Vec<Connector>, ConnectorError> {
        if connectors.len() > Self::MAX_PER_STATION {
            return Err(ConnectorError::TooMany);
        }
        for c in &connectors {
            if c.connector_id == 0 || c.evse_id == Some(0) {
                return Err(ConnectorError::ZeroId);
            }
            if c.max_power_w == 0 || c.max_power_w > Self::MAX_POWER_W {
                return Err(ConnectorError::Power);
            }
        }
        connectors.sort_by_key(|c| (c.evse_id, c.connector_id));
        if let Some(pair) = connectors
            .windows(2)
            .find(|w| (w[0].evse_id, w[0].connector_id) == (w[1].evse_id, w[1].connector_id))
        {
            return Err(ConnectorError::Duplicate(pair[0].component().to_string()));
        }
        Ok(connectors)
    }
}

/// What a station said about itself in its last BootNotification, and how we answered.
#[derive(Debug, Clone, PartialEq)]
pub struct BootInfo {
    pub vendor: String,
    pub model: String,
    pub serial_number: Option<String>,
    pub firmware_version: Option<String>,
    pub status: Registration,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Station {
    pub id: StationId,
    /// The versions the station may connect with, in the operator's order of preference.
    pub protocols: Vec<ProtocolVersion>,
    pub registration: Registration,
    pub site: Option<String>,
    /// The organisation that operates the station; its operators may see and act on it.
    pub organisation: Option<String>,
    pub location: Option<GeoPoint>,
    /// What the operator declared, ordered by EVSE and connector.
    pub connectors: Vec<Connector>,
    pub password_hash: PasswordHash,
    pub boot: Option<BootInfo>,
    /// The WebSocket connection that currently speaks for the station, if any.
    pub connection_id: Option<String>,
    pub online: bool,
    /// When this registration began: the id's history and commands from an earlier registration
    /// (decommissioned, perhaps by another organisation) are never shown for this one.
    pub created_at: DateTime<Utc>,
}

impl Station {
    pub fn new(
        id: StationId,
        protocols: Vec<ProtocolVersion>,
        password_hash: PasswordHash,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            id,
            protocols,
            registration: Registration::Accepted,
            site: None,
            organisation: None,
            location: None,
            connectors: Vec::new(),
            password_hash,
            boot: None,
            connection_id: None,
            online: false,
            created_at: now,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn station_ids_follow_the_identifier_rules() {
        assert!(StationId::parse("CP-001").is_ok());
        assert!(StationId::parse("a.b@c|d=e+f*g_h").is_ok());
        assert_eq!(StationId::parse(""), Err(StationIdError::Empty));
        assert_eq!(StationId::parse(&"x".repeat(49)), Err(StationIdError::TooLong));
        assert!(StationId::parse(&"x".repeat(48)).is_ok());
        for bad in ["a:b", "a/b", "a b", "é", "a%20"] {
            assert_eq!(StationId::parse(bad), Err(StationIdError::InvalidCharacter), "{bad}");
        }
    }

    #[test]
    fn geo_points_are_range_checked() {
        assert!(GeoPoint::new(52.37, 4.89).is_some());
        assert!(GeoPoint::new(90.1, 0.0).is_none());
        assert!(GeoPoint::new(0.0, -180.5).is_none());
        assert!(GeoPoint::new(f64::NAN, 0.0).is_none());
    }

    #[test]
    fn connector_types_use_the_201_words() {
        for t in ConnectorType::ALL {
            assert_eq!(ConnectorType::parse(t.as_str()), Some(t));
        }
        assert_eq!(ConnectorType::parse("cType2"), Some(ConnectorType::CType2));
        assert_eq!(ConnectorType::parse("ctype2"), None);
        assert_eq!(ConnectorType::parse("cCHAdeMO"), None);
    }

    #[test]
    fn declared_connectors_are_checked_and_ordered() {
        let c = |evse, connector, power| Connector {
            evse_id: evse,
            connector_id: connector,
            kind: ConnectorType::CCcs2,
            max_power_w: power,
        };
        let ordered = Connector::check_all(vec![c(Some(2), 1, 150_000), c(Some(1), 1, 22_000)]).unwrap();
        assert_eq!(ordered[0].evse_id, Some(1));
        assert_eq!(
            Connector::check_all(vec![c(Some(1), 1, 1), c(Some(1), 1, 2)]),
            Err(ConnectorError::Duplicate("evse#1#connector#1".into()))
        );
        assert_eq!(Connector::check_all(vec![c(None, 0, 1)]), Err(ConnectorError::ZeroId));
        assert_eq!(
            Connector::check_all(vec![c(Some(0), 1, 1)]),
            Err(ConnectorError::ZeroId)
        );
        assert_eq!(Connector::check_all(vec![c(None, 1, 0)]), Err(ConnectorError::Power));
        assert_eq!(
            Connector::check_all(vec![c(None, 1, 4_000_001)]),
            Err(ConnectorError::Power)
        );
        assert!(Connector::check_all(vec![c(None, 1, 4_000_000)]).is_ok());
        let many = (1..=65).map(|i| c(None, i, 1)).collect();
        assert_eq!(Connector::check_all(many), Err(ConnectorError::TooMany));
    }

    #[test]
    fn protocol_names_round_trip() {
        for p in ProtocolVersion::ALL {
            assert_eq!(ProtocolVersion::parse(p.as_str()), Some(p));
        }
        assert_eq!(ProtocolVersion::parse("ocpp2.1"), None);
    }
}
