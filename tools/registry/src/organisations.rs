//! `org` and `operator`: organisations and who operates for them, through the same domain use
//! cases as the app API's admin routes.

use chrono::Utc;
use clap::Subcommand;
use csms_domain::organisation;
use csms_domain::{Membership, Organisation, OrganisationId, PageRequest, Services, Subject};
use serde_json::json;

use crate::CliError;

#[derive(Subcommand)]
pub enum OrgCommand {
    /// Create an organisation.
    Add {
        /// 1-64 of A-Z a-z 0-9 . _ - ; stations name their organisation by it.
        #[arg(long)]
        id: String,
        /// Display name (the id when left out).
        #[arg(long)]
        name: Option<String>,
    },
    /// Every organisation, by id.
    List,
    /// One organisation and its operators.
    Show {
        #[arg(long)]
        id: String,
    },
}

#[derive(Subcommand)]
pub enum OperatorCommand {
    /// Make a user (their token's `sub`) an operator of the organisation, moving them out of any other.
    Add {
        #[arg(long)]
        org: String,
        #[arg(long)]
        subject: String,
    },
    /// End a user's membership of the organisation (nothing to do is fine).
    Remove {
        #[arg(long)]
        org: String,
        #[arg(long)]
        subject: String,
    },
    /// The organisation's operators, by subject.
    List {
        #[arg(long)]
        org: String,
    },
}

fn organisation_id(raw: &str) -> Result<OrganisationId, CliError> {
    OrganisationId::parse(raw).map_err(|e| CliError::Usage(format!("organisation {raw:?}: {e}")))
}

fn subject(raw: &str) -> Result<Subject, CliError> {
    Subject::parse(raw).map_err(|e| CliError::Usage(format!("subject {raw:?}: {e}")))
}

fn organisation_json(o: &Organisation) -> serde_json::Value {
    json!({"id": o.id.as_str(), "name": o.name, "createdAt": o.created_at})
}

fn membership_json(m: &Membership) -> serde_json::Value {
    json!({"subject": m.subject.as_str(), "organisationId": m.organisation.as_str(), "since": m.since})
}

/// Every operator of the organisation, all pages.
async fn all_operators(services: &Services, id: &OrganisationId) -> Result<Vec<Membership>, CliError> {
    let mut request = PageRequest::first(csms_domain::page::MAX_LIMIT);
    let mut all = Vec::new();
    loop {
        let page = organisation::operators(&*services.organisations, id, &request).await?;
        all.extend(page.items);
        match page.next {
            Some(next) => request = request.after(Some(next)),
            None => return Ok(all),
        }
    }
}

pub async fn org(services: &Services, command: OrgCommand, as_json: bool) -> Result<(), CliError> {
    let store = &*services.organisations;
    match command {
        OrgCommand::Add { id, name } => {
            let id = organisation_id(&id)?;
            let name = organisation::parse_name(name.as_deref().unwrap_or(id.as_str()))
                .map_err(|e| CliError::Usage(format!("name: {e}")))?;
            let created = organisation::create(store, id, name, Utc::now()).await?;
            if as_json {
                println!("{}", organisation_json(&created));
            } else {
                println!("organisation {} ({})", created.id, created.name);
            }
        }
        OrgCommand::List => {
            let mut request = PageRequest::first(csms_domain::page::MAX_LIMIT);
            loop {
                let page = store.list(&request).await?;
                for o in &page.items {
                    if as_json {
                        println!("{}", organisation_json(o));
                    } else {
                        println!("{}\t{}\t{}", o.id, o.name, o.created_at.to_rfc3339());
                    }
                }
                match page.next {
                    Some(next) => request = request.after(Some(next)),
                    None => break,
                }
            }
        }
        OrgCommand::Show { id } => {
            let id = organisation_id(&id)?;
            let found = store
                .get(&id)
                .await?
                .ok_or(organisation::OrganisationError::UnknownOrganisation)?;
            let operators = all_operators(services, &id).await?;
            if as_json {
                let mut out = organisation_json(&found);
                out["operators"] = operators.iter().map(membership_json).collect();
                println!("{out}");
            } else {
                println!(
                    "organisation {} ({}), created {}",
                    found.id,
                    found.name,
                    found.created_at.to_rfc3339()
                );
                for m in &operators {
                    println!("  operator {} since {}", m.subject, m.since.to_rfc3339());
                }
            }
        }
    }
    Ok(())
}

pub async fn operator(services: &Services, command: OperatorCommand, as_json: bool) -> Result<(), CliError> {
    let store = &*services.organisations;
    match command {
        OperatorCommand::Add { org, subject: raw } => {
            let membership =
                organisation::add_operator(store, &organisation_id(&org)?, subject(&raw)?, Utc::now()).await?;
            if as_json {
                println!("{}", membership_json(&membership));
            } else {
                println!("{} operates for {}", membership.subject, membership.organisation);
            }
        }
        OperatorCommand::Remove { org, subject: raw } => {
            let ended = organisation::remove_operator(store, &organisation_id(&org)?, &subject(&raw)?).await?;
            if as_json {
                println!("{}", json!({"removed": ended}));
            } else if ended {
                println!("{raw} no longer operates for {org}");
            } else {
                println!("{raw} was not an operator of {org}");
            }
        }
        OperatorCommand::List { org } => {
            for m in all_operators(services, &organisation_id(&org)?).await? {
                if as_json {
                    println!("{}", membership_json(&m));
                } else {
                    println!("{}\t{}", m.subject, m.since.to_rfc3339());
                }
            }
        }
    }
    Ok(())
}
