//! What an organisation's operators do with the id tokens they issue: register, change, list and
//! withdraw them. A token key belongs to one organisation: another organisation's (or an
//! unassigned) token is never read, replaced or deleted through these.

use crate::id_token::{IdToken, TokenRecord};
use crate::page::{Page, PageRequest};
use crate::ports::{Services, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum TokenRegistryError {
    #[error("this id token is registered by another organisation")]
    Taken,
    #[error("your organisation has no such id token")]
    Unknown,
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for TokenRegistryError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::AlreadyExists => Self::Taken,
            StoreError::NotFound => Self::Unknown,
            other => Self::Store(other),
        }
    }
}

/// The organisation's token with this key (the type and case do not matter).
pub async fn get(services: &Services, organisation: &str, token: &IdToken) -> Result<TokenRecord, TokenRegistryError> {
    services
        .charging
        .tokens
        .get(token)
        .await?
        .filter(|r| r.organisation.as_deref() == Some(organisation))
        .ok_or(TokenRegistryError::Unknown)
}

/// Registers (or replaces) a token of `organisation`; true when it was new.
pub async fn put(services: &Services, organisation: &str, mut record: TokenRecord) -> Result<bool, TokenRegistryError> {
    record.organisation = Some(organisation.to_owned());
    Ok(services.charging.tokens.put_in_organisation(&record).await?)
}

/// Changes a token of `organisation` with `change`; the record as stored after.
pub async fn update(
    services: &Services,
    organisation: &str,
    token: &IdToken,
    change: impl FnOnce(&mut TokenRecord),
) -> Result<TokenRecord, TokenRegistryError> {
    let mut record = get(services, organisation, token).await?;
    change(&mut record);
    put(services, organisation, record.clone()).await?;
    Ok(record)
}

pub async fn delete(services: &Services, organisation: &str, token: &IdToken) -> Result<(), TokenRegistryError> {
    Ok(services
        .charging
        .tokens
        .delete_in_organisation(token, organisation)
        .await?)
}

pub async fn list(
    services: &Services,
    organisation: &str,
    page: &PageRequest,
) -> Result<Page<TokenRecord>, TokenRegistryError> {
    Ok(services
        .charging
        .tokens
        .list_by_organisation(organisation, page)
        .await?)
}
