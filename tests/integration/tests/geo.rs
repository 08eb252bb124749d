//! "Stations near a point" from the geohash index (`ByGeoCell` on the stations table) on
//! DynamoDB Local: exactly the stations within the radius, nearest first, one Query per
//! covering cell.
//!
//! The stations table comes from the synthesized CDK template. Until the template has the
//! `ByGeoCell` index, the test adds it to the table's definition itself (as the stack will
//! declare it), so it needs nothing but DynamoDB Local.

use aws_sdk_dynamodb::config::interceptors::BeforeSerializationInterceptorContextRef;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::error::BoxError;
use aws_sdk_dynamodb::operation::query::QueryInput;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::Utc;
use csms_aws::dynamo::{Stations, Table};
use csms_aws::geo::{CELL_ATTRIBUTE, GEOHASH_ATTRIBUTE, GeoIndex, INDEX_NAME};
use csms_domain::geo::{self, MemoryLocator, Nearby, StationLocator};
use csms_domain::ports::StationRepository;
use csms_domain::{GeoPoint, PasswordHash, ProtocolVersion, Station, StationId};
use standin::template::{IndexSpec, Plan};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Counts the Query calls (pages) made through the client.
#[derive(Debug, Clone, Default)]
struct CountQueries(Arc<AtomicUsize>);

impl CountQueries {
    fn take(&self) -> usize {
        self.0.swap(0, Ordering::SeqCst)
    }
}

impl Intercept for CountQueries {
    fn name(&self) -> &'static str {
        "CountQueries"
    }

    fn read_before_serialization(
        &self,
        context: &BeforeSerializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if context.input().downcast_ref::<QueryInput>().is_some() {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
        Ok(())
    }
}

struct GeoTable {
    dynamodb: aws_sdk_dynamodb::Client,
    name: String,
    queries: CountQueries,
    /// True when the template declares the index; false when the test added it.
    from_template: bool,
}

impl GeoTable {
    fn table(&self) -> Table {
        Table::new(self.dynamodb.clone(), Some(self.name.clone()), "STATIONS_TABLE")
    }
}

/// A fresh stations table with the `ByGeoCell` index, on a client that counts Query calls.
async fn geo_table() -> GeoTable {
    assert!(
        std::env::var("AWS_ENDPOINT_URL_DYNAMODB").is_ok(),
        "AWS_ENDPOINT_URL_DYNAMODB is not set: run the integration tests through scripts/test.sh"
    );
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let queries = CountQueries::default();
    let dynamodb = aws_sdk_dynamodb::Client::from_conf(
        aws_sdk_dynamodb::config::Builder::from(&sdk)
            .interceptor(queries.clone())
            .build(),
    );
    let template = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../infra/cdk.out/Csms.template.json");
    let prefix = format!("it{}", &uuid::Uuid::new_v4().simple().to_string()[..10]);
    let plan = Plan::from_file(&template, &prefix).expect("run `npm run synth` in infra/ first");
    let mut stations = plan
        .tables
        .into_iter()
        .find(|t| t.construct_id == "StationsTable")
        .expect("the template has StationsTable");
    let keys = vec![
        (CELL_ATTRIBUTE.to_owned(), "HASH".to_owned()),
        (GEOHASH_ATTRIBUTE.to_owned(), "RANGE".to_owned()),
    ];
    let from_template = match stations.global_secondary_indexes.iter().find(|i| i.name == INDEX_NAME) {
        Some(index) => {
            assert_eq!(index.key_schema, keys, "ByGeoCell's keys in the template");
            let projected = |a: &str| index.non_key_attributes.iter().any(|n| n == a);
            assert!(
                index.projection_type == "ALL"
                    || (index.projection_type == "INCLUDE" && projected("latitude") && projected("longitude")),
                "ByGeoCell must project latitude and longitude: {index:?}"
            );
            true
        }
        None => {
            stations.global_secondary_indexes.push(IndexSpec {
                name: INDEX_NAME.to_owned(),
                key_schema: keys,
                projection_type: "INCLUDE".to_owned(),
                non_key_attributes: vec!["latitude".to_owned(), "longitude".to_owned()],
            });
            for attribute in [CELL_ATTRIBUTE, GEOHASH_ATTRIBUTE] {
                stations
                    .attribute_definitions
                    .push((attribute.to_owned(), "S".to_owned()));
            }
            false
        }
    };
    let name = stations.name.clone();
    let only_stations = Plan {
        tables: vec![stations],
        queues: vec![],
        functions: vec![],
        mappings: vec![],
        schedule_groups: vec![],
        roles: vec![],
    };
    // No queues in the plan: the SQS client is never called.
    standin::provision::provision(&dynamodb, &aws_sdk_sqs::Client::new(&sdk), &only_stations)
        .await
        .expect("provisioning the stations table");
    queries.take();
    GeoTable {
        dynamodb,
        name,
        queries,
        from_template,
    }
}

fn point(lat: f64, lon: f64) -> GeoPoint {
    GeoPoint::new(lat, lon).unwrap()
}

/// 30 stations: 12 scattered over ±0.3° around Berlin, 12 around São Paulo, 6 on both sides of
/// the antimeridian in Fiji. Deterministic.
fn scattered_stations() -> Vec<(StationId, GeoPoint)> {
    let mut seed: u64 = 0x5eed_cafe;
    let mut next = move || {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (seed >> 11) as f64 / (1u64 << 53) as f64 - 0.5
    };
    let mut stations = Vec::new();
    for (city, (lat, lon)) in [("BER", (52.52, 13.405)), ("SAO", (-23.55, -46.633))] {
        for i in 0..12 {
            let at = point(lat + 0.6 * next(), lon + 0.6 * next());
            stations.push((StationId::parse(&format!("{city}-{i:02}")).unwrap(), at));
        }
    }
    for (i, lon) in [179.99, 179.93, 179.6, -179.99, -179.92, -179.5]
        .into_iter()
        .enumerate()
    {
        let at = point(-16.8 + next() / 5.0, lon);
        stations.push((StationId::parse(&format!("FJI-{i:02}")).unwrap(), at));
    }
    stations
}

/// Writes the index's attributes as the Stations adapter does for a located station.
async fn put_located(table: &GeoTable, id: &StationId, at: GeoPoint) {
    let (cell, geohash) = geo::index_keys(at);
    let item = HashMap::from([
        ("stationId".to_owned(), AttributeValue::S(id.to_string())),
        ("latitude".to_owned(), AttributeValue::N(at.latitude().to_string())),
        ("longitude".to_owned(), AttributeValue::N(at.longitude().to_string())),
        (CELL_ATTRIBUTE.to_owned(), AttributeValue::S(cell)),
        (GEOHASH_ATTRIBUTE.to_owned(), AttributeValue::S(geohash)),
        ("registration".to_owned(), AttributeValue::S("Accepted".into())),
    ]);
    table
        .dynamodb
        .put_item()
        .table_name(&table.name)
        .set_item(Some(item))
        .send()
        .await
        .expect("put");
}

/// What `near` must answer, by looking at every station.
fn expected(stations: &[(StationId, GeoPoint)], center: GeoPoint, radius_m: f64, limit: usize) -> Vec<Nearby> {
    let mut within: Vec<Nearby> = stations
        .iter()
        .map(|(station, location)| Nearby {
            station: station.clone(),
            location: *location,
            distance_m: geo::distance_m(center, *location),
        })
        .filter(|n| n.distance_m <= radius_m)
        .collect();
    within.sort_by(|a, b| a.distance_m.total_cmp(&b.distance_m).then(a.station.cmp(&b.station)));
    within.truncate(limit);
    within
}

#[tokio::test]
async fn near_answers_from_the_geohash_index_one_query_per_cell() {
    let table = geo_table().await;
    let stations = scattered_stations();
    let memory = MemoryLocator::default();
    for (id, at) in &stations {
        put_located(&table, id, *at).await;
        memory.put(id.clone(), *at);
    }
    // A station without a location is not in the (sparse) index.
    table
        .dynamodb
        .put_item()
        .table_name(&table.name)
        .item("stationId", AttributeValue::S("NOWHERE".into()))
        .send()
        .await
        .unwrap();
    table.queries.take();
    let index = GeoIndex(table.table());

    let searches = [
        ("Berlin", point(52.52, 13.405), 25_000.0),
        ("Berlin, wide", point(52.52, 13.405), 50_000.0),
        ("Berlin, small", point(52.6, 13.3), 15_000.0),
        ("São Paulo", point(-23.55, -46.633), 30_000.0),
        ("Fiji, east of 180", point(-16.8, 179.97), 20_000.0),
        ("Fiji, west of -180", point(-16.8, -179.97), 20_000.0),
        ("Fiji, on the antimeridian", point(-16.8, 180.0), 50_000.0),
        ("open sea", point(0.0, -30.0), 50_000.0),
    ];
    let mut found_any = 0;
    for (name, center, radius) in searches {
        let cells = geo::covering_cells(center, radius).unwrap();
        let found = geo::near(&index, center, radius, 100).await.unwrap();
        let queries = table.queries.take();
        let want = expected(&stations, center, radius, 100);
        assert_eq!(found, want, "{name}");
        assert_eq!(found, geo::near(&memory, center, radius, 100).await.unwrap(), "{name}");
        // Small partitions: one page per cell, never a scan.
        assert!(
            queries <= cells.len(),
            "{name}: {queries} queries for {} cells",
            cells.len()
        );
        assert_eq!(queries, cells.len(), "{name}");
        println!("{name}: {} of 30 stations, {queries} queries", found.len());
        found_any += found.len();
        assert!(found.len() < stations.len(), "{name}: not everything is near");
        if name == "Berlin" || name == "São Paulo" {
            assert!((2..12).contains(&found.len()), "{name}: some stations in, some out");
        }
    }
    assert!(found_any > 0);
    // Both sides of the antimeridian in one answer.
    let fiji = geo::near(&index, point(-16.8, 180.0), 50_000.0, 100).await.unwrap();
    assert!(fiji.iter().any(|n| n.location.longitude() > 0.0) && fiji.iter().any(|n| n.location.longitude() < 0.0));

    // The limit keeps the nearest.
    let center = point(52.52, 13.405);
    let nearest = geo::near(&index, center, 50_000.0, 3).await.unwrap();
    assert_eq!(nearest, expected(&stations, center, 50_000.0, 3));
    assert_eq!(nearest.len(), 3);

    // A cell holds exactly the stations the domain puts in it.
    let (cell, _) = geo::index_keys(stations[0].1);
    let mut in_cell = index.in_cell(&cell).await.unwrap();
    in_cell.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(in_cell, memory.in_cell(&cell).await.unwrap());
    assert!(index.in_cell("zzzz").await.unwrap().is_empty());
}

/// The Stations adapter writes the index keys of a located station. Checked once the stack
/// declares the index; until then the adapter is not expected to.
#[tokio::test]
async fn stations_with_a_location_are_in_the_index() {
    let table = geo_table().await;
    if !table.from_template {
        eprintln!("the template has no {INDEX_NAME} index yet: skipped");
        return;
    }
    let stations = Stations(table.table());
    let hash = PasswordHash::from_stored("$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA".into());
    let at = point(52.5163, 13.3777);
    let mut located = Station::new(
        StationId::parse("GEO-1").unwrap(),
        vec![ProtocolVersion::Ocpp16],
        hash.clone(),
        Utc::now(),
    );
    located.location = Some(at);
    stations.create(&located).await.unwrap();
    let unlocated = Station::new(
        StationId::parse("GEO-2").unwrap(),
        vec![ProtocolVersion::Ocpp16],
        hash,
        Utc::now(),
    );
    stations.create(&unlocated).await.unwrap();

    let index = GeoIndex(table.table());
    let found = geo::near(&index, point(52.52, 13.40), 5_000.0, 10).await.unwrap();
    let ids: Vec<&str> = found.iter().map(|n| n.station.as_str()).collect();
    assert_eq!(ids, ["GEO-1"]);
    assert_eq!(found[0].location, at);
}
