//! The meter series of charging sessions (MeterSeriesTable), apart from the session records.
//!
//! One item per session and instant: partition `session` = `<stationId>#<transaction key>`
//! (station ids have no `#`, so the split is unambiguous), sort `at` = the readings' timestamp
//! as fixed-width RFC 3339 with nanoseconds, so items sort by time. Each reading of that instant
//! is one attribute: name `<measurand>|<phase>|<context>` (phase empty when none), value
//! `<decimal>|<unit>` (unit empty when none). A MeterValue of 8 measurands is one item of a few
//! hundred bytes, written with one UpdateItem (1 write unit) whose `if_not_exists` keeps the
//! first value of each reading, so a redelivered event writes the same item again and changes
//! nothing. An instant holds at most a few thousand readings (measurands x phases x contexts),
//! well within DynamoDB's 400 KB.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, SecondsFormat, Utc};
use csms_domain::meter::{Measurand, MeterSample, Phase, ReadingContext};
use csms_domain::ports::MeterSeries;
use csms_domain::*;
use rust_decimal::Decimal;
use std::collections::BTreeMap;

use crate::attributes::*;
use crate::dynamo::{Table, backend};
use crate::wire::WireError;

pub struct Series(pub Table);

/// Readings per UpdateItem: keeps the update expression under DynamoDB's 4 KB.
const READINGS_PER_UPDATE: usize = 50;
/// Items one search for the register at the stop reads at most (pages of 100).
const REGISTER_SEARCH_PAGES: usize = 20;

const PARTITION: &str = "session";
const SORT: &str = "at";

fn malformed(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(Box::new(WireError(e.to_string())))
}

fn partition(station: &StationId, transaction: &TransactionKey) -> String {
    format!("{station}#{transaction}")
}

fn instant(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Nanos, true)
}

/// The attribute that holds a reading: `<measurand>|<phase>|<context>`.
fn reading_name(sample: &MeterSample) -> String {
    format!(
        "{}|{}|{}",
        sample.measurand.as_str(),
        sample.phase.map_or("", Phase::as_str),
        sample.context.as_str()
    )
}

fn reading_value(sample: &MeterSample) -> String {
    format!("{}|{}", sample.value.normalize(), sample.unit.as_deref().unwrap_or(""))
}

/// The readings of one stored instant, in key order.
fn readings(item: &Item) -> Result<Vec<MeterSample>, StoreError> {
    let at = opt_s(item, SORT).ok_or_else(|| malformed("series item without `at`"))?;
    let timestamp = DateTime::parse_from_rfc3339(&at)
        .map_err(|_| malformed(format!("series instant {at}")))?
        .with_timezone(&Utc);
    let mut samples = Vec::new();
    for (name, value) in item {
        if name == PARTITION || name == SORT {
            continue;
        }
        let reading = || malformed(format!("series reading {name}"));
        // From the right: the measurand is the only part that could hold a `|`.
        let mut parts = name.rsplitn(3, '|');
        let (context, phase, measurand) = (
            parts.next().ok_or_else(reading)?,
            parts.next().ok_or_else(reading)?,
            parts.next().ok_or_else(reading)?,
        );
        let (number, unit) = value.as_s().ok().and_then(|v| v.split_once('|')).ok_or_else(reading)?;
        let value: Decimal = number.parse().map_err(|_| reading())?;
        if value.abs() > csms_domain::meter::MAX_MAGNITUDE {
            return Err(reading());
        }
        samples.push(MeterSample {
            timestamp,
            measurand: Measurand::parse(Some(measurand)),
            phase: match phase {
                "" => None,
                p => Some(Phase::parse(p).ok_or_else(reading)?),
            },
            context: ReadingContext::parse(Some(context)).ok_or_else(reading)?,
            value,
            unit: (!unit.is_empty()).then(|| unit.to_owned()),
        });
    }
    samples.sort_by_key(MeterSample::key);
    Ok(samples)
}

impl Series {
    /// Adds the readings of one instant, [`READINGS_PER_UPDATE`] per UpdateItem.
    async fn add_instant(&self, key: &str, at: DateTime<Utc>, samples: &[&MeterSample]) -> Result<(), StoreError> {
        for chunk in samples.chunks(READINGS_PER_UPDATE) {
            let mut update = self
                .0
                .client
                .update_item()
                .table_name(self.0.name()?)
                .key(PARTITION, s(key))
                .key(SORT, s(instant(at)));
            let mut sets = Vec::with_capacity(chunk.len());
            for (i, sample) in chunk.iter().enumerate() {
                sets.push(format!("#r{i} = if_not_exists(#r{i}, :r{i})"));
                update = update
                    .expression_attribute_names(format!("#r{i}"), reading_name(sample))
                    .expression_attribute_values(format!(":r{i}"), s(reading_value(sample)));
            }
            update
                .update_expression(format!("SET {}", sets.join(", ")))
                .send()
                .await
                .map_err(backend)?;
        }
        Ok(())
    }
}

#[async_trait]
impl MeterSeries for Series {
    async fn add(
        &self,
        station: &StationId,
        transaction: &TransactionKey,
        samples: &[MeterSample],
    ) -> Result<(), StoreError> {
        // One reading per key within the event too: an UpdateItem may not name an attribute twice.
        let mut instants: BTreeMap<DateTime<Utc>, BTreeMap<String, &MeterSample>> = BTreeMap::new();
        for sample in samples {
            instants
                .entry(sample.timestamp)
                .or_default()
                .entry(reading_name(sample))
                .or_insert(sample);
        }
        let key = partition(station, transaction);
        for (at, readings) in instants {
            let readings: Vec<&MeterSample> = readings.into_values().collect();
            self.add_instant(&key, at, &readings).await?;
        }
        Ok(())
    }

    async fn page(
        &self,
        station: &StationId,
        transaction: &TransactionKey,
        page: &PageRequest,
    ) -> Result<Page<MeterSample>, StoreError> {
        let key = partition(station, transaction);
        let page = crate::page::query_page(
            &self.0.client,
            self.0.name()?,
            &[PARTITION, SORT],
            PARTITION,
            &key,
            page,
            |query| query.scan_index_forward(true),
            readings,
        )
        .await?;
        Ok(Page {
            items: page.items.into_iter().flatten().collect(),
            next: page.next,
        })
    }

    async fn energy_register_at(
        &self,
        station: &StationId,
        transaction: &TransactionKey,
        at: DateTime<Utc>,
    ) -> Result<Option<MeterSample>, StoreError> {
        let mut start = None;
        for _ in 0..REGISTER_SEARCH_PAGES {
            let out = self
                .0
                .client
                .query()
                .table_name(self.0.name()?)
                .key_condition_expression("#p = :p AND #at <= :at")
                .expression_attribute_names("#p", PARTITION)
                .expression_attribute_names("#at", SORT)
                .expression_attribute_values(":p", s(partition(station, transaction)))
                .expression_attribute_values(":at", AttributeValue::S(instant(at)))
                .scan_index_forward(false)
                .limit(100)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(backend)?;
            for item in out.items() {
                if let Some(register) = readings(item)?.into_iter().rfind(MeterSample::is_energy_register) {
                    return Ok(Some(register));
                }
            }
            match out.last_evaluated_key {
                Some(key) => start = Some(key),
                None => return Ok(None),
            }
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readings_round_trip_through_an_item() {
        let at = DateTime::parse_from_rfc3339("2026-03-01T10:00:00.123456789Z")
            .unwrap()
            .with_timezone(&Utc);
        let samples = vec![
            MeterSample::new(
                at,
                Measurand::EnergyActiveImportRegister,
                Decimal::new(125_000_001, 6),
                Some("kWh"),
                0,
            )
            .unwrap(),
            MeterSample::new(at, Measurand::Voltage, Decimal::new(2301, 1), Some("V"), 0)
                .unwrap()
                .with_phase(Some(Phase::L1N))
                .with_context(ReadingContext::TransactionEnd),
            MeterSample::new(at, Measurand::Other("Frequency".into()), Decimal::from(50), None, 0).unwrap(),
        ];
        let mut item = Item::from([
            (PARTITION.to_owned(), s("CP1#tx16#1")),
            (SORT.to_owned(), s(instant(at))),
        ]);
        for sample in &samples {
            item.insert(reading_name(sample), s(reading_value(sample)));
        }
        let mut expected = samples.clone();
        expected.sort_by_key(MeterSample::key);
        assert_eq!(readings(&item).unwrap(), expected);
        assert_eq!(instant(at), "2026-03-01T10:00:00.123456789Z");
    }

    #[test]
    fn instants_sort_as_strings_in_time_order() {
        let t = |raw: &str| DateTime::parse_from_rfc3339(raw).unwrap().with_timezone(&Utc);
        let times = [
            t("0999-12-31T23:59:59Z"),
            t("2026-03-01T10:00:00Z"),
            t("2026-03-01T10:00:00.000000001Z"),
            t("2026-03-01T10:00:00.1Z"),
            t("9999-12-31T23:59:59.999999999Z"),
        ];
        let keys: Vec<String> = times.iter().copied().map(instant).collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted);
        assert!(keys.iter().all(|k| k.len() == keys[0].len()));
    }

    #[test]
    fn a_malformed_item_is_an_error_not_a_panic() {
        for (name, value) in [
            ("Voltage|L9|Sample.Periodic", "1|V"),
            ("Voltage||Nope", "1|V"),
            ("Voltage", "1|V"),
            ("Voltage||Sample.Periodic", "1"),
            ("Voltage||Sample.Periodic", "x|V"),
            ("Voltage||Sample.Periodic", "1e300|V"),
        ] {
            let item = Item::from([
                (PARTITION.to_owned(), s("CP1#tx16#1")),
                (SORT.to_owned(), s("2026-03-01T10:00:00.000000000Z")),
                (name.to_owned(), s(value)),
            ]);
            assert!(readings(&item).is_err(), "{name} = {value}");
        }
    }
}
