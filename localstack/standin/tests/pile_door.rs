//! Issue 10 item 22: the stand-in's copy of the pile door's path rewrite runs the table the
//! CloudFront Function's jest test runs (`infra/test/ocpp-path-rewrite-cases.json`), so the two
//! implementations cannot drift apart unnoticed.

use serde_json::Value;
use standin::pile_door::{Rewrite, rewrite};

const TABLE: &str = include_str!("../../../infra/test/ocpp-path-rewrite-cases.json");

fn strings(value: &Value) -> Vec<(String, String)> {
    value
        .as_object()
        .map(|o| {
            o.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn the_stand_in_rewrites_every_path_as_the_cloudfront_function_does() {
    let table: Value = serde_json::from_str(TABLE).unwrap();
    let cases = table["cases"].as_array().unwrap();
    assert!(cases.len() >= 30, "the shared table has {} cases", cases.len());
    let mut failures = Vec::new();
    for case in cases {
        let uri = case["uri"].as_str().unwrap();
        let answer = rewrite(uri, strings(&case["query"]));
        let expected = match case["status"].as_u64() {
            Some(status) => Rewrite::Refuse(status as u16),
            None => {
                let station_id = case["stationId"].as_str().unwrap().to_owned();
                let mut query = strings(&case["passed"]);
                query.push(("stationId".into(), station_id.clone()));
                Rewrite::Connect { station_id, query }
            }
        };
        if answer != expected {
            failures.push(format!(
                "{uri} {}: {answer:?}, the table says {expected:?}",
                case["query"]
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
