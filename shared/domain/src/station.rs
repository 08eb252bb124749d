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
    pub password_hash: PasswordHash,
    pub boot: Option<BootInfo>,
    /// The WebSocket connection that currently speaks for the station, if any.
    pub connection_id: Option<String>,
    pub online: bool,
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
    fn protocol_names_round_trip() {
        for p in ProtocolVersion::ALL {
            assert_eq!(ProtocolVersion::parse(p.as_str()), Some(p));
        }
        assert_eq!(ProtocolVersion::parse("ocpp2.1"), None);
    }
}
