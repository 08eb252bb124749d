//! OrganisationsTable: organisations and operator memberships, keyed `pk`, `sk`.
//!
//! - an organisation: `pk = "organisation"`, `sk = <id>`; `name`, `createdAt`. One partition, so
//!   listing them is one query in id order; they are few and only admins write them.
//! - a membership: `pk = "operator#<subject>"`, `sk = "membership"`; `organisation`, `subject`,
//!   `since`. One item per subject, so "the organisation of X" is one GetItem and an operator can
//!   never belong to two organisations. The sparse index `ByOrganisation` (partition
//!   `organisation`, sort `subject`) lists an organisation's operators.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use csms_domain::organisation::OrganisationStore;
use csms_domain::{Membership, Organisation, OrganisationId, Page, PageRequest, StoreError, Subject};

use crate::attributes::*;
use crate::dynamo::{Table, backend, condition_failed};

/// The OrganisationsTable index of memberships by organisation.
pub const OPERATORS_BY_ORGANISATION: &str = "ByOrganisation";

const ORGANISATION_PK: &str = "organisation";
const MEMBERSHIP_SK: &str = "membership";

pub struct Organisations(pub Table);

fn membership_key(subject: &Subject) -> Item {
    Item::from([
        ("pk".into(), s(format!("operator#{subject}"))),
        ("sk".into(), s(MEMBERSHIP_SK)),
    ])
}

fn organisation_key(id: &OrganisationId) -> Item {
    Item::from([("pk".into(), s(ORGANISATION_PK)), ("sk".into(), s(id.as_str()))])
}

fn malformed(e: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    backend(e)
}

fn organisation_from_item(item: &Item) -> Result<Organisation, StoreError> {
    let id = get_s(item, "sk").map_err(malformed)?;
    Ok(Organisation {
        id: OrganisationId::parse(&id).map_err(malformed)?,
        name: get_s(item, "name").map_err(malformed)?,
        created_at: get_time(item, "createdAt").map_err(malformed)?,
    })
}

fn membership_from_item(item: &Item) -> Result<Membership, StoreError> {
    Ok(Membership {
        subject: Subject::parse(&get_s(item, "subject").map_err(malformed)?).map_err(malformed)?,
        organisation: OrganisationId::parse(&get_s(item, "organisation").map_err(malformed)?).map_err(malformed)?,
        since: get_time(item, "since").map_err(malformed)?,
    })
}

#[async_trait]
impl OrganisationStore for Organisations {
    async fn create(&self, organisation: &Organisation) -> Result<(), StoreError> {
        let mut item = organisation_key(&organisation.id);
        item.insert("name".into(), s(organisation.name.as_str()));
        item.insert("createdAt".into(), time(organisation.created_at));
        let put = self
            .0
            .client
            .put_item()
            .table_name(self.0.name()?)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)");
        match put.send().await {
            Ok(_) => Ok(()),
            Err(e) if condition_failed(&e) => Err(StoreError::AlreadyExists),
            Err(e) => Err(backend(e)),
        }
    }

    async fn get(&self, id: &OrganisationId) -> Result<Option<Organisation>, StoreError> {
        let out = self
            .0
            .client
            .get_item()
            .table_name(self.0.name()?)
            .set_key(Some(organisation_key(id)))
            .consistent_read(true)
            .send()
            .await
            .map_err(backend)?;
        out.item.as_ref().map(organisation_from_item).transpose()
    }

    async fn list(&self, page: &PageRequest) -> Result<Page<Organisation>, StoreError> {
        crate::page::query_page(
            &self.0.client,
            self.0.name()?,
            &["pk", "sk"],
            "pk",
            ORGANISATION_PK,
            page,
            |query| query,
            organisation_from_item,
        )
        .await
    }

    async fn rename(&self, id: &OrganisationId, name: &str) -> Result<Option<Organisation>, StoreError> {
        let update = self
            .0
            .client
            .update_item()
            .table_name(self.0.name()?)
            .set_key(Some(organisation_key(id)))
            .update_expression("SET #name = :name")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_names("#name", "name")
            .expression_attribute_values(":name", s(name))
            .return_values(ReturnValue::AllNew);
        match update.send().await {
            Ok(out) => out.attributes.as_ref().map(organisation_from_item).transpose(),
            Err(e) if condition_failed(&e) => Ok(None),
            Err(e) => Err(backend(e)),
        }
    }

    async fn membership(&self, subject: &Subject) -> Result<Option<Membership>, StoreError> {
        // Strongly consistent: a removal must hold from the next request on.
        let out = self
            .0
            .client
            .get_item()
            .table_name(self.0.name()?)
            .set_key(Some(membership_key(subject)))
            .consistent_read(true)
            .send()
            .await
            .map_err(backend)?;
        out.item.as_ref().map(membership_from_item).transpose()
    }

    async fn put_membership(&self, membership: &Membership) -> Result<(), StoreError> {
        let mut item = membership_key(&membership.subject);
        item.insert("subject".into(), s(membership.subject.as_str()));
        item.insert("organisation".into(), s(membership.organisation.as_str()));
        item.insert("since".into(), time(membership.since));
        self.0.put(item).await
    }

    async fn remove_membership(&self, subject: &Subject, organisation: &OrganisationId) -> Result<bool, StoreError> {
        let delete = self
            .0
            .client
            .delete_item()
            .table_name(self.0.name()?)
            .set_key(Some(membership_key(subject)))
            .condition_expression("#organisation = :organisation")
            .expression_attribute_names("#organisation", "organisation")
            .expression_attribute_values(":organisation", AttributeValue::S(organisation.as_str().to_owned()));
        match delete.send().await {
            Ok(_) => Ok(true),
            Err(e) if condition_failed(&e) => Ok(false),
            Err(e) => Err(backend(e)),
        }
    }

    async fn operators(
        &self,
        organisation: &OrganisationId,
        page: &PageRequest,
    ) -> Result<Page<Membership>, StoreError> {
        crate::page::query_page(
            &self.0.client,
            self.0.name()?,
            &["pk", "sk", "organisation", "subject"],
            "organisation",
            organisation.as_str(),
            page,
            |query| query.index_name(OPERATORS_BY_ORGANISATION),
            membership_from_item,
        )
        .await
    }
}
