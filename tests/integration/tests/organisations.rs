//! OrganisationsTable on DynamoDB Local through the domain's use cases: organisations and their
//! pages, one membership per subject, the sparse ByOrganisation index, and cursors that belong to
//! one list only.

use chrono::{SubsecRound, Utc};
use csms_domain::organisation::{self, OrganisationError};
use csms_domain::*;
use integration_tests::fresh_stack;

fn org(raw: &str) -> OrganisationId {
    OrganisationId::parse(raw).unwrap()
}

fn sub(raw: &str) -> Subject {
    Subject::parse(raw).unwrap()
}

/// Every item of every page, and how many pages it took.
async fn walk<T, F, Fut>(limit: usize, mut page: F) -> (Vec<T>, usize)
where
    F: FnMut(PageRequest) -> Fut,
    Fut: std::future::Future<Output = Result<Page<T>, OrganisationError>>,
{
    let mut request = PageRequest::first(limit);
    let (mut all, mut pages) = (Vec::new(), 0);
    loop {
        let got = page(request.clone()).await.unwrap();
        pages += 1;
        all.extend(got.items);
        match got.next {
            Some(next) => request = request.after(Some(next)),
            None => return (all, pages),
        }
    }
}

#[tokio::test]
async fn organisations_are_created_once_renamed_and_listed_in_pages() {
    let stack = fresh_stack().await;
    let store = &*stack.services.organisations;
    let now = Utc::now().trunc_subsecs(6);
    for id in ["e", "a", "c", "b", "d"] {
        organisation::create(store, org(id), format!("Org {id}"), now)
            .await
            .unwrap();
    }
    assert!(matches!(
        organisation::create(store, org("a"), "again".into(), now).await,
        Err(OrganisationError::AlreadyExists)
    ));
    let renamed = organisation::rename(store, &org("c"), "Charging Co").await.unwrap();
    assert_eq!(renamed.name, "Charging Co");
    assert_eq!(renamed.created_at, now);
    assert_eq!(store.get(&org("c")).await.unwrap(), Some(renamed));
    assert!(matches!(
        organisation::rename(store, &org("zz"), "x").await,
        Err(OrganisationError::UnknownOrganisation)
    ));
    assert_eq!(store.get(&org("zz")).await.unwrap(), None);

    // Memberships share the table but never show up as organisations.
    organisation::add_operator(store, &org("a"), sub("olga"), now)
        .await
        .unwrap();
    let (all, pages) = walk(2, |request| async move { Ok(store.list(&request).await?) }).await;
    let ids: Vec<&str> = all.iter().map(|o| o.id.as_str()).collect();
    assert_eq!(ids, ["a", "b", "c", "d", "e"]);
    assert!(pages >= 3, "{pages} pages");
}

#[tokio::test]
async fn an_operator_has_one_membership_and_organisations_list_only_theirs() {
    let stack = fresh_stack().await;
    let store = &*stack.services.organisations;
    let now = Utc::now().trunc_subsecs(6);
    for id in ["north", "south"] {
        organisation::create(store, org(id), id.into(), now).await.unwrap();
    }
    for n in 0..5 {
        organisation::add_operator(store, &org("north"), sub(&format!("op-{n}")), now)
            .await
            .unwrap();
    }
    organisation::add_operator(store, &org("south"), sub("sam"), now)
        .await
        .unwrap();
    assert_eq!(
        organisation::organisation_of(store, &sub("op-3")).await.unwrap(),
        Some(org("north"))
    );
    assert_eq!(
        organisation::organisation_of(store, &sub("nobody")).await.unwrap(),
        None
    );

    // Re-adding keeps the first membership; moving op-4 leaves north with four.
    let later = now + chrono::Duration::minutes(5);
    let again = organisation::add_operator(store, &org("north"), sub("op-0"), later)
        .await
        .unwrap();
    assert_eq!(again.since, now);
    organisation::add_operator(store, &org("south"), sub("op-4"), later)
        .await
        .unwrap();

    let (north, _) = walk(2, |request| async move {
        organisation::operators(store, &org("north"), &request).await
    })
    .await;
    let subjects: Vec<&str> = north.iter().map(|m| m.subject.as_str()).collect();
    assert_eq!(subjects, ["op-0", "op-1", "op-2", "op-3"]);
    let (south, _) = walk(10, |request| async move {
        organisation::operators(store, &org("south"), &request).await
    })
    .await;
    let subjects: Vec<&str> = south.iter().map(|m| m.subject.as_str()).collect();
    assert_eq!(subjects, ["op-4", "sam"]);

    // A cursor of north's list is refused for south's, and a forged one too.
    let first = store.operators(&org("north"), &PageRequest::first(1)).await.unwrap();
    let cursor = first.next.expect("more than one page");
    let theirs = PageRequest::first(1).after(Some(cursor));
    assert!(matches!(
        store.operators(&org("south"), &theirs).await,
        Err(StoreError::InvalidCursor)
    ));
    assert!(matches!(store.list(&theirs).await, Err(StoreError::InvalidCursor)));
    let forged = PageRequest::first(1).after(Some(Cursor::new("not-a-cursor")));
    assert!(matches!(store.list(&forged).await, Err(StoreError::InvalidCursor)));

    // Removal from another organisation changes nothing; from its own ends it, and is idempotent.
    assert!(
        !organisation::remove_operator(store, &org("north"), &sub("sam"))
            .await
            .unwrap()
    );
    assert_eq!(
        organisation::organisation_of(store, &sub("sam")).await.unwrap(),
        Some(org("south"))
    );
    assert!(
        organisation::remove_operator(store, &org("south"), &sub("sam"))
            .await
            .unwrap()
    );
    assert!(
        !organisation::remove_operator(store, &org("south"), &sub("sam"))
            .await
            .unwrap()
    );
    assert_eq!(organisation::organisation_of(store, &sub("sam")).await.unwrap(), None);
}
