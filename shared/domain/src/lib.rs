//! Domain logic of the CSMS: stations and their credentials, registration and boot decisions,
//! connections, and connector status. It knows nothing of AWS, JSON, Lambda or OCPP-J framing;
//! storage and messaging are reached through the ports in [`ports`].

pub mod boot;
pub mod connection;
pub mod credentials;
pub mod memory;
pub mod ports;
pub mod registry;
pub mod station;
pub mod status;

pub use boot::{BootDecision, BootPolicy};
pub use connection::{Connection, choose_protocol};
pub use credentials::{Password, PasswordError, PasswordHash};
pub use ports::{Services, StoreError};
pub use station::{BootInfo, GeoPoint, ProtocolVersion, Registration, Station, StationId, StationIdError};
pub use status::{Availability, Component, StatusReport};
