//! What an operator does with stations: register, rotate passwords, accept or reject.
//! The command-line tool and (later) the HTTP API both call these.

use chrono::{DateTime, Utc};

use crate::credentials::{Password, PasswordError};
use crate::ports::{Services, StoreError};
use crate::station::{GeoPoint, ProtocolVersion, Registration, Station, StationId};

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("a station with this id is already registered")]
    AlreadyRegistered,
    #[error("no station is registered with this id")]
    UnknownStation,
    #[error("at least one protocol is required")]
    NoProtocol,
    #[error(transparent)]
    Password(#[from] PasswordError),
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for RegistryError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::AlreadyExists => Self::AlreadyRegistered,
            StoreError::NotFound => Self::UnknownStation,
            other => Self::Store(other),
        }
    }
}

#[derive(Debug, Clone)]
pub struct NewStation {
    pub id: StationId,
    pub protocols: Vec<ProtocolVersion>,
    pub registration: Registration,
    pub site: Option<String>,
    pub organisation: Option<String>,
    pub location: Option<GeoPoint>,
    /// None: generate a strong password.
    pub password: Option<Password>,
}

/// Registers a station and returns its password, the only time it is available in plaintext.
pub async fn register(services: &Services, new: NewStation, now: DateTime<Utc>) -> Result<Password, RegistryError> {
    if new.protocols.is_empty() {
        return Err(RegistryError::NoProtocol);
    }
    let password = new.password.unwrap_or_else(Password::generate);
    let mut station = Station::new(new.id, new.protocols, password.hash()?, now);
    station.registration = new.registration;
    station.site = new.site;
    station.organisation = new.organisation;
    station.location = new.location;
    services.stations.create(&station).await?;
    Ok(password)
}

/// Replaces a station's password. The station's open connection stays up; the new password is
/// needed from its next connect.
pub async fn rotate_password(
    services: &Services,
    id: &StationId,
    password: Option<Password>,
) -> Result<Password, RegistryError> {
    let password = password.unwrap_or_else(Password::generate);
    services.stations.set_password_hash(id, &password.hash()?).await?;
    Ok(password)
}

pub async fn set_registration(
    services: &Services,
    id: &StationId,
    registration: Registration,
) -> Result<(), RegistryError> {
    Ok(services.stations.set_registration(id, registration).await?)
}
