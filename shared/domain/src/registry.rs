//! What an operator does with stations: register, rotate passwords, change and decommission them,
//! list an organisation's stations. The command-line tool and the HTTP API both call these.

use chrono::{DateTime, Utc};

use crate::credentials::{Password, PasswordError};
use crate::page::{Page, PageRequest};
use crate::ports::{ChannelError, Services, StationChanges, StoreError};
use crate::station::{Connector, ConnectorError, GeoPoint, ProtocolVersion, Registration, Station, StationId};

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("a station with this id is already registered")]
    AlreadyRegistered,
    #[error("no station is registered with this id")]
    UnknownStation,
    #[error("at least one protocol is required")]
    NoProtocol,
    #[error("a protocol is listed twice")]
    DuplicateProtocol,
    #[error(transparent)]
    Connector(#[from] ConnectorError),
    #[error(transparent)]
    Password(#[from] PasswordError),
    /// The record is gone, but its live connection could not be closed.
    #[error("the station's connection could not be closed")]
    Channel(#[from] ChannelError),
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
    /// What the operator declares; checked by [`Connector::check_all`].
    pub connectors: Vec<Connector>,
    /// None: generate a strong password.
    pub password: Option<Password>,
}

fn check_protocols(protocols: &[ProtocolVersion]) -> Result<(), RegistryError> {
    if protocols.is_empty() {
        return Err(RegistryError::NoProtocol);
    }
    if protocols.iter().enumerate().any(|(i, p)| protocols[..i].contains(p)) {
        return Err(RegistryError::DuplicateProtocol);
    }
    Ok(())
}

/// Registers a station and returns its password, the only time it is available in plaintext.
///
/// The id may have been registered before (and decommissioned), possibly by another
/// organisation: this registration starts its own life (docs/decisions/station-registration-epoch.md).
/// What is kept of the station's current state (live status, the outstanding-call slot, the
/// belief about its local list) is reset first, while no pile can connect (its password is not
/// out yet); its history and commands are read from `now`, the registration, on.
pub async fn register(services: &Services, new: NewStation, now: DateTime<Utc>) -> Result<Password, RegistryError> {
    check_protocols(&new.protocols)?;
    let connectors = Connector::check_all(new.connectors)?;
    let password = new.password.unwrap_or_else(Password::generate);
    let mut station = Station::new(new.id, new.protocols, password.hash()?, now);
    station.registration = new.registration;
    station.site = new.site;
    station.organisation = new.organisation;
    station.location = new.location;
    station.connectors = connectors;
    // A registered id is refused before anything of its live station is touched.
    if services.stations.get(&station.id).await?.is_some() {
        return Err(RegistryError::AlreadyRegistered);
    }
    services.availability.clear(&station.id).await?;
    services.commands.store.clear_slot(&station.id).await?;
    services.commands.local_lists.clear(&station.id).await?;
    services.stations.create(&station).await?;
    Ok(password)
}

/// Replaces a station's password and closes the connection opened with the old one: the pile
/// needs the new password at once. A connect racing the change is refused when it attaches
/// ([`CheckedAgainst`](crate::ports::CheckedAgainst)). The password is returned even when the
/// close fails (it is the only time it is shown); that socket then lasts until API Gateway's
/// two-hour limit, which is logged.
pub async fn rotate_password(
    services: &Services,
    id: &StationId,
    password: Option<Password>,
) -> Result<Password, RegistryError> {
    let password = password.unwrap_or_else(Password::generate);
    let live = services.stations.set_password_hash(id, &password.hash()?).await?;
    if let Err(e) = close(services, live).await {
        tracing::error!(station = %id, error = %e, "password rotated, but the connection opened with the old one could not be closed");
    }
    Ok(password)
}

/// Sets the registration the station's next BootNotification is answered with. Rejected also
/// closes its live connection, as decommissioning does: a rejected station must boot again (and
/// is told Rejected) before anything else it sends is taken.
pub async fn set_registration(
    services: &Services,
    id: &StationId,
    registration: Registration,
) -> Result<(), RegistryError> {
    let live = services.stations.set_registration(id, registration).await?;
    if registration == Registration::Rejected {
        close(services, live).await?;
    }
    Ok(())
}

/// Closes a station's live connection, if it has one (Ok also when the pile had already gone).
async fn close(services: &Services, live: Option<String>) -> Result<(), RegistryError> {
    if let Some(connection) = live {
        services.channel.close(&connection).await?;
    }
    Ok(())
}

/// Changes what the operator decides about a station: protocols (from its next connect),
/// registration (from its next BootNotification; Rejected also closes the live connection, as
/// [`set_registration`] does), site, location, connectors.
pub async fn update(services: &Services, id: &StationId, mut changes: StationChanges) -> Result<(), RegistryError> {
    if let Some(protocols) = &changes.protocols {
        check_protocols(protocols)?;
    }
    if let Some(connectors) = changes.connectors.take() {
        changes.connectors = Some(Connector::check_all(connectors)?);
    }
    if changes.is_empty() {
        // Nothing to write, but an unknown station is still an error.
        return match services.stations.get(id).await? {
            Some(_) => Ok(()),
            None => Err(RegistryError::UnknownStation),
        };
    }
    let live = services.stations.update(id, &changes).await?;
    if changes.registration == Some(Registration::Rejected) {
        close(services, live).await?;
    }
    Ok(())
}

/// Takes a station out of service: its record goes (so it can no longer connect, and the id may
/// be registered again) and its live connection is closed; its sessions, status history and
/// commands stay, but a new registration of the id does not see them ([`register`]). The record
/// goes first, so a pile that reconnects at once is refused.
pub async fn decommission(services: &Services, id: &StationId) -> Result<Station, RegistryError> {
    let station = services
        .stations
        .delete(id)
        .await?
        .ok_or(RegistryError::UnknownStation)?;
    if let Some(connection) = &station.connection_id {
        // Ok(false): the pile had already gone.
        services.channel.close(connection).await?;
    }
    Ok(station)
}

/// One page of an organisation's stations, by station id.
pub async fn organisation_stations(
    services: &Services,
    organisation: &str,
    page: &PageRequest,
) -> Result<Page<Station>, RegistryError> {
    Ok(services.stations.list_by_organisation(organisation, page).await?)
}
