//! `driver export|erase`: a driver's data on request, through the domain's use cases
//! (`csms-domain::privacy`). The subject is the driver's sign-in subject (Cognito `sub`), which
//! their tokens carry as `owner`.

use chrono::Utc;
use clap::Subcommand;
use csms_domain::meter::MeterSample;
use csms_domain::organisation::Subject;
use csms_domain::privacy::{self, PSEUDONYM_PREFIX};
use csms_domain::{Services, session};
use serde_json::json;

use crate::{CliError, number, session_json, token_json};

#[derive(Subcommand)]
pub enum DriverCommand {
    /// Everything stored about one driver, as one JSON document: their id tokens, their charging
    /// sessions with every meter reading, and any operator membership.
    Export {
        #[arg(long)]
        subject: String,
    },
    /// Erase one driver: delete their id tokens and any membership; keep their sessions (billing
    /// and accounting law) under a pseudonym that nothing else stores. Safe to run again.
    Erase {
        #[arg(long)]
        subject: String,
        /// The sessions' new owner; `erased:<random UUID>` when left out. Give the one a failed
        /// run printed to finish it under the same pseudonym.
        #[arg(long)]
        pseudonym: Option<String>,
    },
}

fn subject(raw: &str) -> Result<Subject, CliError> {
    Subject::parse(raw).map_err(|e| CliError::Usage(format!("subject {raw:?}: {e}")))
}

fn readings_json(readings: &[MeterSample]) -> serde_json::Value {
    readings
        .iter()
        .map(|m| {
            json!({
                "timestamp": m.timestamp,
                "measurand": m.measurand.as_str(),
                "phase": m.phase.map(|p| p.as_str()),
                "context": m.context.as_str(),
                "value": number(Some(m.value)),
                "unit": m.unit,
            })
        })
        .collect()
}

pub async fn driver(services: &Services, command: DriverCommand, as_json: bool) -> Result<(), CliError> {
    let ports = services.privacy_ports();
    match command {
        DriverCommand::Export { subject: raw } => {
            let data = privacy::export(&ports, &subject(&raw)?).await?;
            let now = Utc::now();
            let mut sessions = Vec::with_capacity(data.sessions.len());
            for s in &data.sessions {
                // Every reading: the series is paged through, stored apart from the record.
                let readings = session::whole_series(&*services.charging.series, &s.station, &s.transaction).await?;
                let mut row = session_json(s, readings.len(), &[]);
                row["stationId"] = json!(s.station.as_str());
                row["meterValues"] = readings_json(&readings);
                sessions.push(row);
            }
            // Always JSON: an export is a document to hand over.
            let out = json!({
                "subject": data.subject.as_str(),
                "exportedAt": now,
                "tokens": data.tokens.iter().map(|t| token_json(t, now)).collect::<Vec<_>>(),
                "sessions": sessions,
                "operatorMembership": data.membership.as_ref().map(|m| json!({
                    "organisationId": m.organisation.as_str(),
                    "since": m.since,
                })),
            });
            println!("{}", serde_json::to_string_pretty(&out).expect("JSON values serialize"));
        }
        DriverCommand::Erase {
            subject: raw,
            pseudonym,
        } => {
            let pseudonym = pseudonym.unwrap_or_else(|| format!("{PSEUDONYM_PREFIX}{}", uuid::Uuid::new_v4()));
            let done = privacy::erase(&ports, &subject(&raw)?, &pseudonym).await?;
            if as_json {
                println!(
                    "{}",
                    json!({
                        "subject": raw,
                        "pseudonym": done.pseudonym,
                        "tokensDeleted": done.tokens_deleted.iter().map(|t| t.as_str()).collect::<Vec<_>>(),
                        "sessionsPseudonymised": done.sessions_pseudonymised,
                        "membershipRemoved": done.membership_removed,
                    })
                );
            } else {
                println!(
                    "{raw}: {} token(s) deleted, {} session(s) now owned by {}{}",
                    done.tokens_deleted.len(),
                    done.sessions_pseudonymised,
                    done.pseudonym,
                    if done.membership_removed {
                        ", operator membership ended"
                    } else {
                        ""
                    }
                );
            }
        }
    }
    Ok(())
}
