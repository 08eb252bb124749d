//! A driver's data on request: an export of everything stored about one person (the subject of
//! their sign-in), and its erasure.
//!
//! What is stored about a driver, by subject: the id tokens they own (`owner`), the charging
//! sessions of those tokens (the session's `owner`, copied from the token when the session learnt
//! it), and, for staff, an operator membership. Erasure deletes the tokens and the membership, and
//! pseudonymises the sessions: accounting law keeps invoices and what they were billed for for
//! years, so a session stays, but its owner becomes a pseudonym that nothing else stores. A
//! pseudonym is one per erasure, so the driver's sessions still group together for an audit.
//! What erasure does not reach is documented with the retention of each table
//! (docs/operations.md): commands and anomalies expire, logs expire with their retention.

use crate::id_token::{IdToken, TokenRecord};
use crate::organisation::{Membership, OrganisationStore, Subject};
use crate::page::{MAX_LIMIT, Page, PageRequest};
use crate::ports::{SessionRepository, StoreError, TokenRepository};
use crate::session::{Session, SessionFilter};
use std::future::Future;

#[derive(Debug, thiserror::Error)]
pub enum PrivacyError {
    #[error("a pseudonym starts with {PSEUDONYM_PREFIX:?} and goes on, got {0:?}")]
    InvalidPseudonym(String),
    #[error("session {0} kept changing while it was pseudonymised; run the erasure again")]
    KeptChanging(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The ports a driver's data lives behind.
pub struct PrivacyPorts<'a> {
    pub tokens: &'a dyn TokenRepository,
    pub sessions: &'a dyn SessionRepository,
    pub organisations: &'a dyn OrganisationStore,
}

/// Everything stored about one subject.
#[derive(Debug, Clone, PartialEq)]
pub struct DriverData {
    pub subject: Subject,
    pub tokens: Vec<TokenRecord>,
    /// Whole records (their meter series are apart: `session::whole_series`), newest start first.
    pub sessions: Vec<Session>,
    pub membership: Option<Membership>,
}

/// What an erasure did.
#[derive(Debug, Clone, PartialEq)]
pub struct Erasure {
    pub pseudonym: String,
    pub tokens_deleted: Vec<IdToken>,
    pub sessions_pseudonymised: usize,
    pub membership_removed: bool,
}

/// The prefix of every pseudonym, so a pseudonymised session is recognised as one.
pub const PSEUDONYM_PREFIX: &str = "erased:";

/// Whether an owner is a pseudonym left by an erasure.
pub fn is_pseudonym(owner: &str) -> bool {
    owner.starts_with(PSEUDONYM_PREFIX)
}

/// Every page of a paged list.
async fn all<T, F, Fut>(mut page: F) -> Result<Vec<T>, StoreError>
where
    F: FnMut(PageRequest) -> Fut,
    Fut: Future<Output = Result<Page<T>, StoreError>>,
{
    let mut request = PageRequest::first(MAX_LIMIT);
    let mut items = Vec::new();
    loop {
        let page = page(request.clone()).await?;
        items.extend(page.items);
        match page.next {
            Some(next) => request = request.after(Some(next)),
            None => return Ok(items),
        }
    }
}

/// Everything stored about `subject`: their tokens, their sessions (whole records), their
/// membership.
pub async fn export(ports: &PrivacyPorts<'_>, subject: &Subject) -> Result<DriverData, StoreError> {
    let owner = subject.as_str();
    let tokens = all(|page| async move { ports.tokens.list_by_owner(owner, &page).await }).await?;
    let filter = SessionFilter::default();
    let summaries = all(|page| {
        let filter = filter.clone();
        async move { ports.sessions.list_by_owner(owner, &filter, &page).await }
    })
    .await?;
    let mut sessions = Vec::with_capacity(summaries.len());
    for summary in summaries {
        // The index is eventually consistent: a session gone since, or no longer theirs, is not.
        if let Some(session) = ports.sessions.get(&summary.station, &summary.transaction).await?
            && session.owner.as_deref() == Some(owner)
        {
            sessions.push(session);
        }
    }
    let membership = ports.organisations.membership(subject).await?;
    Ok(DriverData {
        subject: subject.clone(),
        tokens,
        sessions,
        membership,
    })
}

/// Erases `subject`: deletes their tokens and membership, and gives their sessions the owner
/// `pseudonym` (which must start with [`PSEUDONYM_PREFIX`]). Idempotent: run again after a
/// failure, it finishes what is left; a session or token that changed owner meanwhile is left
/// alone.
pub async fn erase(ports: &PrivacyPorts<'_>, subject: &Subject, pseudonym: &str) -> Result<Erasure, PrivacyError> {
    if !is_pseudonym(pseudonym) || pseudonym == PSEUDONYM_PREFIX {
        return Err(PrivacyError::InvalidPseudonym(pseudonym.to_owned()));
    }
    let owner = subject.as_str();
    // Sessions first: while they are still listed by owner they can be found; the tokens go last
    // so that a failure half way leaves a run again with everything to find.
    let data = export(ports, subject).await?;
    let mut sessions_pseudonymised = 0;
    for session in data.sessions {
        if pseudonymise(ports.sessions, session, owner, pseudonym).await? {
            sessions_pseudonymised += 1;
        }
    }
    let mut tokens_deleted = Vec::new();
    for token in data.tokens {
        if ports
            .tokens
            .delete_owned(token.organisation.as_deref(), &token.token, owner)
            .await?
        {
            tokens_deleted.push(token.token);
        }
    }
    let membership_removed = match data.membership {
        Some(m) => ports.organisations.remove_membership(subject, &m.organisation).await?,
        None => false,
    };
    Ok(Erasure {
        pseudonym: pseudonym.to_owned(),
        tokens_deleted,
        sessions_pseudonymised,
        membership_removed,
    })
}

/// Gives one session the pseudonym, under the record's optimistic concurrency: a sessions
/// consumer saving the same record meanwhile makes this read it again (and the consumer, losing,
/// reads the pseudonym). False when the session is gone or no longer the subject's.
async fn pseudonymise(
    sessions: &dyn SessionRepository,
    mut session: Session,
    owner: &str,
    pseudonym: &str,
) -> Result<bool, PrivacyError> {
    for _ in 0..5 {
        if session.owner.as_deref() != Some(owner) {
            return Ok(false);
        }
        let expected = session.version;
        session.owner = Some(pseudonym.to_owned());
        session.version = expected + 1;
        if sessions.save(&session, Some(expected)).await? {
            return Ok(true);
        }
        match sessions.get(&session.station, &session.transaction).await? {
            Some(current) => session = current,
            None => return Ok(false),
        }
    }
    Err(PrivacyError::KeptChanging(format!(
        "{} {}",
        session.station.as_str(),
        session.transaction
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::id_token::AuthorizationStatus;
    use crate::memory::{MemorySessions, MemoryTokens};
    use crate::organisation::{MemoryOrganisations, OrganisationId};
    use crate::session::{Ordinal, SeenToken, TransactionKey};
    use crate::station::StationId;
    use crate::transaction::TransactionId;
    use chrono::{TimeZone, Utc};

    fn id_token(value: &str) -> IdToken {
        IdToken::parse_16(value).unwrap()
    }

    fn key(transaction: i64) -> TransactionKey {
        TransactionKey::Ocpp16(TransactionId::new(transaction).unwrap())
    }

    fn token(value: &str, owner: &str) -> TokenRecord {
        TokenRecord {
            token: id_token(value),
            status: AuthorizationStatus::Accepted,
            expiry: None,
            group: None,
            owner: Some(owner.into()),
            organisation: Some("acme".into()),
        }
    }

    fn session(station: &str, transaction: i64, owner: Option<&str>, hour: u32) -> Session {
        let mut s = Session::new(StationId::parse(station).unwrap(), key(transaction));
        s.owner = owner.map(str::to_owned);
        s.id_token = Some(SeenToken {
            at: Ordinal {
                seq_no: None,
                timestamp: Utc.with_ymd_and_hms(2026, 12, 1, hour, 0, 0).unwrap(),
            },
            token: id_token("AAA1"),
        });
        s
    }

    struct World {
        tokens: MemoryTokens,
        sessions: MemorySessions,
        organisations: MemoryOrganisations,
    }

    impl World {
        async fn new() -> Self {
            let w = World {
                tokens: MemoryTokens::default(),
                sessions: MemorySessions::default(),
                organisations: MemoryOrganisations::default(),
            };
            for t in [
                token("AAA1", "driver-1"),
                token("AAA2", "driver-1"),
                token("BBB1", "driver-2"),
            ] {
                w.tokens.put(&t).await.unwrap();
            }
            for s in [
                session("CP-1", 1, Some("driver-1"), 8),
                session("CP-2", 2, Some("driver-1"), 9),
                session("CP-1", 3, Some("driver-2"), 10),
                session("CP-3", 4, None, 11),
            ] {
                let mut saved = s.clone();
                saved.version = 1;
                assert!(w.sessions.save(&saved, None).await.unwrap());
            }
            w.organisations
                .put_membership(&Membership {
                    subject: Subject::parse("driver-1").unwrap(),
                    organisation: OrganisationId::parse("acme").unwrap(),
                    since: Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
                })
                .await
                .unwrap();
            w
        }

        fn ports(&self) -> PrivacyPorts<'_> {
            PrivacyPorts {
                tokens: &self.tokens,
                sessions: &self.sessions,
                organisations: &self.organisations,
            }
        }
    }

    fn subject(s: &str) -> Subject {
        Subject::parse(s).unwrap()
    }

    #[tokio::test]
    async fn export_holds_the_subjects_tokens_sessions_and_membership_only() {
        let w = World::new().await;
        let data = export(&w.ports(), &subject("driver-1")).await.unwrap();
        let tokens: Vec<&str> = data.tokens.iter().map(|t| t.token.as_str()).collect();
        assert_eq!(tokens, ["AAA1", "AAA2"]);
        let sessions: Vec<String> = data.sessions.iter().map(|s| s.transaction.to_string()).collect();
        assert_eq!(sessions.len(), 2, "{sessions:?}");
        assert!(data.sessions.iter().all(|s| s.owner.as_deref() == Some("driver-1")));
        assert_eq!(data.membership.unwrap().organisation.as_str(), "acme");

        let nobody = export(&w.ports(), &subject("nobody")).await.unwrap();
        assert!(nobody.tokens.is_empty() && nobody.sessions.is_empty() && nobody.membership.is_none());
    }

    #[tokio::test]
    async fn erasure_deletes_tokens_and_membership_and_pseudonymises_sessions_idempotently() {
        let w = World::new().await;
        let done = erase(&w.ports(), &subject("driver-1"), "erased:7f3c").await.unwrap();
        assert_eq!(done.tokens_deleted.len(), 2);
        assert_eq!(done.sessions_pseudonymised, 2);
        assert!(done.membership_removed);

        // Nothing is left under the subject; the sessions stay, under the pseudonym, one version on.
        let after = export(&w.ports(), &subject("driver-1")).await.unwrap();
        assert!(after.tokens.is_empty() && after.sessions.is_empty() && after.membership.is_none());
        for (station, tx) in [("CP-1", 1), ("CP-2", 2)] {
            let s = w
                .sessions
                .get(&StationId::parse(station).unwrap(), &key(tx))
                .await
                .unwrap()
                .unwrap();
            assert_eq!(s.owner.as_deref(), Some("erased:7f3c"));
            assert_eq!(s.version, 2);
        }
        // Other people's data is untouched.
        let other = export(&w.ports(), &subject("driver-2")).await.unwrap();
        assert_eq!((other.tokens.len(), other.sessions.len()), (1, 1));

        // Again: nothing more to do, no error.
        let again = erase(&w.ports(), &subject("driver-1"), "erased:7f3c").await.unwrap();
        assert_eq!((again.tokens_deleted.len(), again.sessions_pseudonymised), (0, 0));
        assert!(!again.membership_removed);
    }

    #[tokio::test]
    async fn a_pseudonym_must_say_it_is_one() {
        let w = World::new().await;
        for bad in ["driver-3", "", "erased:"] {
            assert!(erase(&w.ports(), &subject("driver-1"), bad).await.is_err(), "{bad:?}");
        }
        assert_eq!(export(&w.ports(), &subject("driver-1")).await.unwrap().tokens.len(), 2);
    }

    #[tokio::test]
    async fn a_token_given_to_someone_else_meanwhile_is_not_deleted() {
        let w = World::new().await;
        let t = token("AAA1", "driver-1");
        let acme = Some("acme");
        assert!(!w.tokens.delete_owned(acme, &t.token, "driver-9").await.unwrap());
        assert!(w.tokens.get(acme, &t.token).await.unwrap().is_some());
        // The same value in another organisation's registry is another token.
        assert!(
            !w.tokens
                .delete_owned(Some("other"), &t.token, "driver-1")
                .await
                .unwrap()
        );
        assert!(w.tokens.delete_owned(acme, &t.token, "driver-1").await.unwrap());
        assert!(w.tokens.get(acme, &t.token).await.unwrap().is_none());
        assert!(!w.tokens.delete_owned(acme, &t.token, "driver-1").await.unwrap());
    }
}
