//! Organisations and their operators. An operator acts for the one organisation their membership
//! names; admins create organisations and add or remove operators. The membership store is the
//! only source of "which organisation does this person operate for", so an admin's change takes
//! effect on the operator's next request, whatever their token says.
//!
//! The store keeps it like the port promises: the organisation of a subject is one read, the
//! operators of an organisation one paged list. `csms-registry` and the app API both call the use
//! cases below.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Mutex;

use crate::page::{Page, PageRequest};
use crate::ports::StoreError;

/// An organisation's id: 1-64 of `A-Z a-z 0-9 . _ -` (ids appear in URLs and in stations).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OrganisationId(String);

/// An operator's subject: the `sub` of their access token (a Cognito user's id), 1-255
/// printable characters without spaces, as OpenID Connect bounds it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Subject(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrganisationInputError {
    #[error("an organisation id is 1 to 64 of A-Z a-z 0-9 . _ -")]
    Id,
    #[error("a subject is 1 to 255 printable characters without spaces")]
    Subject,
    #[error("a name is 1 to 200 characters, not blank, without control characters")]
    Name,
}

impl OrganisationId {
    pub const MAX_LEN: usize = 64;

    pub fn parse(raw: &str) -> Result<Self, OrganisationInputError> {
        let ok = (1..=Self::MAX_LEN).contains(&raw.len())
            && raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(OrganisationInputError::Id)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Subject {
    pub const MAX_LEN: usize = 255;

    pub fn parse(raw: &str) -> Result<Self, OrganisationInputError> {
        let ok = (1..=Self::MAX_LEN).contains(&raw.chars().count())
            && raw.chars().all(|c| !c.is_control() && !c.is_whitespace());
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(OrganisationInputError::Subject)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for OrganisationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An organisation's display name: 1-200 characters, not blank, no control characters.
pub fn parse_name(raw: &str) -> Result<String, OrganisationInputError> {
    let ok = (1..=200).contains(&raw.chars().count()) && !raw.trim().is_empty() && !raw.chars().any(char::is_control);
    if ok {
        Ok(raw.to_owned())
    } else {
        Err(OrganisationInputError::Name)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Organisation {
    pub id: OrganisationId,
    pub name: String,
    pub created_at: DateTime<Utc>,
}

/// Who operates for which organisation, since when. One per subject.
#[derive(Debug, Clone, PartialEq)]
pub struct Membership {
    pub subject: Subject,
    pub organisation: OrganisationId,
    pub since: DateTime<Utc>,
}

/// Organisations and operator memberships.
#[async_trait]
pub trait OrganisationStore: Send + Sync {
    /// Fails with `AlreadyExists` when the id is taken.
    async fn create(&self, organisation: &Organisation) -> Result<(), StoreError>;
    async fn get(&self, id: &OrganisationId) -> Result<Option<Organisation>, StoreError>;
    /// Organisations by id.
    async fn list(&self, page: &PageRequest) -> Result<Page<Organisation>, StoreError>;
    /// Renames an existing organisation; None when there is no such organisation.
    async fn rename(&self, id: &OrganisationId, name: &str) -> Result<Option<Organisation>, StoreError>;
    /// The subject's membership: one strongly consistent read, since every operator request asks.
    async fn membership(&self, subject: &Subject) -> Result<Option<Membership>, StoreError>;
    /// Makes the membership the subject's only one (replacing one in another organisation).
    async fn put_membership(&self, membership: &Membership) -> Result<(), StoreError>;
    /// Ends the subject's membership if it is in `organisation`; true if it was.
    async fn remove_membership(&self, subject: &Subject, organisation: &OrganisationId) -> Result<bool, StoreError>;
    /// One page of an organisation's operators, by subject.
    async fn operators(
        &self,
        organisation: &OrganisationId,
        page: &PageRequest,
    ) -> Result<Page<Membership>, StoreError>;
}

#[derive(Debug, thiserror::Error)]
pub enum OrganisationError {
    #[error("an organisation with this id exists")]
    AlreadyExists,
    #[error("no organisation has this id")]
    UnknownOrganisation,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Creates an organisation (`AlreadyExists` when the id is taken).
pub async fn create(
    store: &dyn OrganisationStore,
    id: OrganisationId,
    name: String,
    now: DateTime<Utc>,
) -> Result<Organisation, OrganisationError> {
    let organisation = Organisation {
        id,
        name,
        created_at: now,
    };
    match store.create(&organisation).await {
        Ok(()) => Ok(organisation),
        Err(StoreError::AlreadyExists) => Err(OrganisationError::AlreadyExists),
        Err(e) => Err(e.into()),
    }
}

pub async fn rename(
    store: &dyn OrganisationStore,
    id: &OrganisationId,
    name: &str,
) -> Result<Organisation, OrganisationError> {
    store
        .rename(id, name)
        .await?
        .ok_or(OrganisationError::UnknownOrganisation)
}

async fn existing(store: &dyn OrganisationStore, id: &OrganisationId) -> Result<Organisation, OrganisationError> {
    store.get(id).await?.ok_or(OrganisationError::UnknownOrganisation)
}

/// Makes `subject` an operator of the organisation, moving them out of any other (an operator
/// acts for one organisation). Idempotent: an existing membership here is kept as it is.
pub async fn add_operator(
    store: &dyn OrganisationStore,
    organisation: &OrganisationId,
    subject: Subject,
    now: DateTime<Utc>,
) -> Result<Membership, OrganisationError> {
    existing(store, organisation).await?;
    if let Some(current) = store.membership(&subject).await?
        && &current.organisation == organisation
    {
        return Ok(current);
    }
    let membership = Membership {
        subject,
        organisation: organisation.clone(),
        since: now,
    };
    store.put_membership(&membership).await?;
    Ok(membership)
}

/// Ends `subject`'s membership of the organisation. Idempotent: true if there was one to end.
/// A membership in another organisation is left alone.
pub async fn remove_operator(
    store: &dyn OrganisationStore,
    organisation: &OrganisationId,
    subject: &Subject,
) -> Result<bool, OrganisationError> {
    existing(store, organisation).await?;
    Ok(store.remove_membership(subject, organisation).await?)
}

/// One page of the organisation's operators.
pub async fn operators(
    store: &dyn OrganisationStore,
    organisation: &OrganisationId,
    page: &PageRequest,
) -> Result<Page<Membership>, OrganisationError> {
    existing(store, organisation).await?;
    Ok(store.operators(organisation, page).await?)
}

/// The organisation `subject` operates for, if any.
pub async fn organisation_of(
    store: &dyn OrganisationStore,
    subject: &Subject,
) -> Result<Option<OrganisationId>, StoreError> {
    Ok(store.membership(subject).await?.map(|m| m.organisation))
}

/// Keyed like the table: organisations by id, memberships by subject.
#[derive(Default)]
pub struct MemoryOrganisations {
    pub organisations: Mutex<BTreeMap<OrganisationId, Organisation>>,
    pub memberships: Mutex<BTreeMap<Subject, Membership>>,
}

#[async_trait]
impl OrganisationStore for MemoryOrganisations {
    async fn create(&self, organisation: &Organisation) -> Result<(), StoreError> {
        let mut map = self.organisations.lock().unwrap();
        if map.contains_key(&organisation.id) {
            return Err(StoreError::AlreadyExists);
        }
        map.insert(organisation.id.clone(), organisation.clone());
        Ok(())
    }
    async fn get(&self, id: &OrganisationId) -> Result<Option<Organisation>, StoreError> {
        Ok(self.organisations.lock().unwrap().get(id).cloned())
    }
    async fn list(&self, page: &PageRequest) -> Result<Page<Organisation>, StoreError> {
        let all: Vec<Organisation> = self.organisations.lock().unwrap().values().cloned().collect();
        Ok(Page::of_sorted(all, page, |o| o.id.0.clone()))
    }
    async fn rename(&self, id: &OrganisationId, name: &str) -> Result<Option<Organisation>, StoreError> {
        let mut map = self.organisations.lock().unwrap();
        Ok(map.get_mut(id).map(|o| {
            o.name = name.to_owned();
            o.clone()
        }))
    }
    async fn membership(&self, subject: &Subject) -> Result<Option<Membership>, StoreError> {
        Ok(self.memberships.lock().unwrap().get(subject).cloned())
    }
    async fn put_membership(&self, membership: &Membership) -> Result<(), StoreError> {
        self.memberships
            .lock()
            .unwrap()
            .insert(membership.subject.clone(), membership.clone());
        Ok(())
    }
    async fn remove_membership(&self, subject: &Subject, organisation: &OrganisationId) -> Result<bool, StoreError> {
        let mut map = self.memberships.lock().unwrap();
        if map.get(subject).is_some_and(|m| &m.organisation == organisation) {
            map.remove(subject);
            return Ok(true);
        }
        Ok(false)
    }
    async fn operators(
        &self,
        organisation: &OrganisationId,
        page: &PageRequest,
    ) -> Result<Page<Membership>, StoreError> {
        let mine: Vec<Membership> = self
            .memberships
            .lock()
            .unwrap()
            .values()
            .filter(|m| &m.organisation == organisation)
            .cloned()
            .collect();
        Ok(Page::of_sorted(mine, page, |m| m.subject.0.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn org(raw: &str) -> OrganisationId {
        OrganisationId::parse(raw).unwrap()
    }
    fn sub(raw: &str) -> Subject {
        Subject::parse(raw).unwrap()
    }

    #[test]
    fn ids_subjects_and_names_are_checked() {
        for good in ["a", "acme-charging", "A.b_c-9", &"x".repeat(64)] {
            assert!(OrganisationId::parse(good).is_ok(), "{good}");
        }
        for bad in ["", "a b", "a/b", "a#b", "ü", &"x".repeat(65)] {
            assert_eq!(OrganisationId::parse(bad), Err(OrganisationInputError::Id), "{bad}");
        }
        assert!(Subject::parse("0b8e6c1e-6f0b-4a57-9d7c-3f1f0c0c2a11").is_ok());
        for bad in ["", "a b", "a\nb", &"s".repeat(256)] {
            assert_eq!(Subject::parse(bad), Err(OrganisationInputError::Subject), "{bad:?}");
        }
        assert!(parse_name("Acme Charging").is_ok());
        for bad in ["", "   ", "a\u{7}", &"n".repeat(201)] {
            assert_eq!(parse_name(bad), Err(OrganisationInputError::Name), "{bad:?}");
        }
    }

    #[tokio::test]
    async fn an_operator_acts_for_one_organisation_at_a_time() {
        // GIVEN two organisations
        let store = MemoryOrganisations::default();
        let now = Utc::now();
        for id in ["a", "b"] {
            create(&store, org(id), id.to_uppercase(), now).await.unwrap();
        }
        assert!(matches!(
            create(&store, org("a"), "again".into(), now).await,
            Err(OrganisationError::AlreadyExists)
        ));
        // WHEN alice joins a, then b
        let first = add_operator(&store, &org("a"), sub("alice"), now).await.unwrap();
        let again = add_operator(&store, &org("a"), sub("alice"), now + chrono::Duration::hours(1))
            .await
            .unwrap();
        assert_eq!(again, first, "re-adding keeps the membership as it was");
        add_operator(&store, &org("b"), sub("alice"), now).await.unwrap();
        // THEN she operates for b only
        assert_eq!(organisation_of(&store, &sub("alice")).await.unwrap(), Some(org("b")));
        let page = PageRequest::default();
        assert!(operators(&store, &org("a"), &page).await.unwrap().items.is_empty());
        // Removing her from a changes nothing; from b ends it, and again is still fine.
        assert!(!remove_operator(&store, &org("a"), &sub("alice")).await.unwrap());
        assert!(remove_operator(&store, &org("b"), &sub("alice")).await.unwrap());
        assert!(!remove_operator(&store, &org("b"), &sub("alice")).await.unwrap());
        assert_eq!(organisation_of(&store, &sub("alice")).await.unwrap(), None);
    }

    #[tokio::test]
    async fn an_unknown_organisation_is_refused() {
        let store = MemoryOrganisations::default();
        let now = Utc::now();
        let page = PageRequest::default();
        assert!(matches!(
            add_operator(&store, &org("nope"), sub("alice"), now).await,
            Err(OrganisationError::UnknownOrganisation)
        ));
        assert!(matches!(
            remove_operator(&store, &org("nope"), &sub("alice")).await,
            Err(OrganisationError::UnknownOrganisation)
        ));
        assert!(matches!(
            operators(&store, &org("nope"), &page).await,
            Err(OrganisationError::UnknownOrganisation)
        ));
        assert!(matches!(
            rename(&store, &org("nope"), "x").await,
            Err(OrganisationError::UnknownOrganisation)
        ));
    }
}
