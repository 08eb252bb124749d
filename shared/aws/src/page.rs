//! Page cursors for DynamoDB lists: the `LastEvaluatedKey` of a query, as an opaque string.
//!
//! A cursor comes back from a client, so it is untrusted: it must decode to exactly the key
//! attributes of the table or index queried (string or number), and its partition attribute must
//! be the one the query asks for. DynamoDB would refuse another partition's key, or another
//! table's key names, anyway; checking first turns that into `StoreError::InvalidCursor` (a 400
//! for the client) instead of a backend failure.

use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::types::AttributeValue;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use csms_domain::{Cursor, Page, PageRequest, StoreError};
use std::collections::BTreeMap;

use crate::attributes::Item;
use crate::dynamo::backend;

/// The cursor for a query's `LastEvaluatedKey` (None: that was the last page).
pub(crate) fn encode(last: Option<&Item>) -> Option<Cursor> {
    let last = last?;
    let plain: BTreeMap<&str, (char, &str)> = last
        .iter()
        .filter_map(|(name, value)| match value {
            AttributeValue::S(v) => Some((name.as_str(), ('S', v.as_str()))),
            AttributeValue::N(v) => Some((name.as_str(), ('N', v.as_str()))),
            _ => None,
        })
        .collect();
    let json = serde_json::to_vec(&plain).ok()?;
    Some(Cursor::new(URL_SAFE_NO_PAD.encode(json)))
}

/// The `ExclusiveStartKey` a cursor stands for, if it belongs to the query on
/// `partition_attribute = partition_value` and names exactly `key_names` (the table's key, and
/// the index's when the query reads one).
pub(crate) fn decode(
    cursor: &Cursor,
    key_names: &[&str],
    partition_attribute: &str,
    partition_value: &str,
) -> Result<Item, StoreError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(cursor.as_str())
        .map_err(|_| StoreError::InvalidCursor)?;
    let plain: BTreeMap<String, (char, String)> =
        serde_json::from_slice(&bytes).map_err(|_| StoreError::InvalidCursor)?;
    let mut item = Item::new();
    for (name, (kind, value)) in plain {
        let value = match kind {
            'S' => AttributeValue::S(value),
            'N' if value.parse::<f64>().is_ok() => AttributeValue::N(value),
            _ => return Err(StoreError::InvalidCursor),
        };
        item.insert(name, value);
    }
    if item.len() != key_names.len()
        || !key_names.iter().all(|name| item.contains_key(*name))
        || item
            .get(partition_attribute)
            .and_then(|v| v.as_s().ok())
            .map(String::as_str)
            != Some(partition_value)
    {
        return Err(StoreError::InvalidCursor);
    }
    Ok(item)
}

/// A query for one page of the partition `partition_attribute = partition_value`, from `start`.
fn partition_query(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    partition_attribute: &str,
    partition_value: &str,
    request: &PageRequest,
    start: Option<Item>,
) -> QueryFluentBuilder {
    client
        .query()
        .table_name(table)
        .key_condition_expression("#pk = :pk")
        .expression_attribute_names("#pk", partition_attribute)
        .expression_attribute_values(":pk", AttributeValue::S(partition_value.to_owned()))
        .limit(i32::try_from(request.limit).unwrap_or(i32::MAX))
        .set_exclusive_start_key(start)
}

/// One page of a query on `partition_attribute = partition_value` (table or index), in the
/// query's order; `build` gets the query with its key condition, limit and start key set and may
/// add an index, a sort key condition, a filter or the scan direction. `key_names` are the
/// attributes of the query's key (the table's and the index's), which a cursor must name.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn query_page<T>(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    key_names: &[&str],
    partition_attribute: &str,
    partition_value: &str,
    request: &PageRequest,
    build: impl FnOnce(QueryFluentBuilder) -> QueryFluentBuilder,
    read: impl Fn(&Item) -> Result<T, StoreError>,
) -> Result<Page<T>, StoreError> {
    let start = match &request.after {
        Some(cursor) => Some(decode(cursor, key_names, partition_attribute, partition_value)?),
        None => None,
    };
    let query = partition_query(client, table, partition_attribute, partition_value, request, start);
    let out = build(query).send().await.map_err(backend)?;
    let items = out.items().iter().map(read).collect::<Result<Vec<_>, _>>()?;
    Ok(Page {
        items,
        next: encode(out.last_evaluated_key.as_ref()),
    })
}

/// Queries one filtered list fills a page from at most this many times.
const MAX_ROUNDS: usize = 5;

/// One page of a query with a filter: DynamoDB applies `Limit` before the filter, so one query
/// may return few or no items and still have more. This queries again from where the last one
/// stopped until the page is full, the list ends, or [`MAX_ROUNDS`] queries were made (then the
/// page is short and its cursor resumes the scan). A page cut short of what the store returned
/// resumes after its last item: `key_names` are the attributes of the query's key (the table's
/// and the index's). `accept_start` refuses a cursor outside the query's key condition, which
/// DynamoDB would answer with an error of ours rather than the client's.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn query_filled<T>(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    partition_attribute: &str,
    partition_value: &str,
    key_names: &[&str],
    request: &PageRequest,
    accept_start: impl Fn(&Item) -> bool,
    build: impl Fn(QueryFluentBuilder) -> QueryFluentBuilder,
    read: impl Fn(&Item) -> Result<T, StoreError>,
) -> Result<Page<T>, StoreError> {
    let mut start = match &request.after {
        Some(cursor) => {
            let key = decode(cursor, key_names, partition_attribute, partition_value)?;
            if !accept_start(&key) {
                return Err(StoreError::InvalidCursor);
            }
            Some(key)
        }
        None => None,
    };
    let mut kept: Vec<Item> = Vec::new();
    for _ in 0..MAX_ROUNDS {
        let query = partition_query(
            client,
            table,
            partition_attribute,
            partition_value,
            request,
            start.take(),
        );
        let out = build(query).send().await.map_err(backend)?;
        kept.extend(out.items.unwrap_or_default());
        if kept.len() >= request.limit {
            let more = kept.len() > request.limit || out.last_evaluated_key.is_some();
            kept.truncate(request.limit);
            let next = match kept.last() {
                Some(last) if more => {
                    let key: Item = key_names
                        .iter()
                        .filter_map(|name| last.get(*name).map(|v| ((*name).to_owned(), v.clone())))
                        .collect();
                    encode(Some(&key))
                }
                _ => None,
            };
            return Ok(Page {
                items: kept.iter().map(&read).collect::<Result<_, _>>()?,
                next,
            });
        }
        match out.last_evaluated_key {
            Some(key) => start = Some(key),
            None => break,
        }
    }
    Ok(Page {
        items: kept.iter().map(&read).collect::<Result<_, _>>()?,
        next: encode(start.as_ref()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> Item {
        Item::from([
            ("owner".to_owned(), AttributeValue::S("alice".into())),
            ("entry".to_owned(), AttributeValue::S("2026-12-03#x".into())),
            ("n".to_owned(), AttributeValue::N("42".into())),
        ])
    }

    const NAMES: &[&str] = &["owner", "entry", "n"];

    #[test]
    fn a_cursor_round_trips() {
        let cursor = encode(Some(&key())).unwrap();
        assert_eq!(decode(&cursor, NAMES, "owner", "alice").unwrap(), key());
    }

    #[test]
    fn another_partitions_or_a_forged_cursor_is_refused() {
        let cursor = encode(Some(&key())).unwrap();
        assert!(matches!(
            decode(&cursor, NAMES, "owner", "bob"),
            Err(StoreError::InvalidCursor)
        ));
        for forged in ["", "!!!", "e30", "bm90IGpzb24"] {
            assert!(matches!(
                decode(&Cursor::new(forged), NAMES, "owner", "alice"),
                Err(StoreError::InvalidCursor)
            ));
        }
    }

    #[test]
    fn a_cursor_with_other_key_names_is_refused() {
        let cursor = encode(Some(&key())).unwrap();
        for names in [
            &["owner", "entry"][..],
            &["owner", "entry", "n", "x"],
            &["owner", "entry", "m"],
        ] {
            assert!(matches!(
                decode(&cursor, names, "owner", "alice"),
                Err(StoreError::InvalidCursor)
            ));
        }
    }
}
