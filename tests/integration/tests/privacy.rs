//! A driver's export and erasure (`csms-domain::privacy`) through the real adapters on DynamoDB
//! Local: the owner indexes find the driver's tokens and sessions, the conditional token delete
//! spares a token that changed owner, and sessions keep their record under the pseudonym.

use chrono::{Duration, SubsecRound, Utc};
use csms_domain::privacy::{self, is_pseudonym};
use csms_domain::session::{Ordinal, SeenToken};
use csms_domain::transaction::TransactionId;
use csms_domain::*;
use integration_tests::fresh_stack;

fn token(value: &str, owner: &str) -> TokenRecord {
    TokenRecord {
        token: IdToken::parse_16(value).unwrap(),
        status: AuthorizationStatus::Accepted,
        expiry: None,
        group: None,
        owner: Some(owner.into()),
        organisation: None,
    }
}

fn session(station: &str, id: i64, owner: &str, minutes_ago: i64) -> Session {
    let mut s = Session::new(
        StationId::parse(station).unwrap(),
        TransactionKey::Ocpp16(TransactionId::new(id).unwrap()),
    );
    s.owner = Some(owner.into());
    s.id_token = Some(SeenToken {
        at: Ordinal {
            seq_no: None,
            timestamp: Utc::now().trunc_subsecs(3) - Duration::minutes(minutes_ago),
        },
        token: IdToken::parse_16("PRIV-1").unwrap(),
    });
    s.version = 1;
    s
}

#[tokio::test]
async fn a_drivers_data_is_exported_then_erased_on_dynamodb_local() {
    let stack = fresh_stack().await;
    let services = &stack.services;
    let charging = &services.charging;
    for t in [
        token("PRIV-1", "driver-a"),
        token("PRIV-2", "driver-a"),
        token("PRIV-3", "driver-b"),
    ] {
        charging.tokens.put(&t).await.unwrap();
    }
    for s in [
        session("CP-P1", 1, "driver-a", 30),
        session("CP-P2", 2, "driver-a", 20),
        session("CP-P1", 3, "driver-b", 10),
    ] {
        assert!(charging.sessions.save(&s, None).await.unwrap());
    }
    let subject = Subject::parse("driver-a").unwrap();
    let ports = services.privacy_ports();

    let data = privacy::export(&ports, &subject).await.unwrap();
    let mut tokens: Vec<&str> = data.tokens.iter().map(|t| t.token.as_str()).collect();
    tokens.sort();
    assert_eq!(tokens, ["PRIV-1", "PRIV-2"]);
    let stations: Vec<&str> = data.sessions.iter().map(|s| s.station.as_str()).collect();
    assert_eq!(stations, ["CP-P2", "CP-P1"], "newest start first");

    // A token handed to someone else is not the driver's to delete.
    assert!(
        !charging
            .tokens
            .delete_owned(None, &IdToken::parse_16("PRIV-3").unwrap(), "driver-a")
            .await
            .unwrap()
    );

    let done = privacy::erase(&ports, &subject, "erased:3b9e").await.unwrap();
    assert_eq!(done.tokens_deleted.len(), 2);
    assert_eq!(done.sessions_pseudonymised, 2);
    let after = privacy::export(&ports, &subject).await.unwrap();
    assert!(after.tokens.is_empty() && after.sessions.is_empty());
    for s in charging
        .sessions
        .list(&StationId::parse("CP-P1").unwrap())
        .await
        .unwrap()
    {
        let owner = s.owner.as_deref().unwrap();
        if s.transaction.to_string().ends_with('1') {
            assert!(is_pseudonym(owner), "{owner}");
            assert_eq!(s.version, 2);
        } else {
            assert_eq!(owner, "driver-b");
        }
    }
    assert!(
        charging
            .tokens
            .get(None, &IdToken::parse_16("PRIV-3").unwrap())
            .await
            .unwrap()
            .is_some()
    );
}
