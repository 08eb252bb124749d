//! The geohash index of located stations: the stations table's global secondary index
//! `ByGeoCell`, partition key `geoCell` (S), sort key `geohash` (S), projecting `latitude` and
//! `longitude`. The Stations adapter writes both keys, from `csms_domain::geo::index_keys`,
//! on every station that has a location; a station without one is not in the index.

use async_trait::async_trait;
use csms_domain::geo::StationLocator;
use csms_domain::ports::StoreError;
use csms_domain::{GeoPoint, StationId};

use crate::attributes::*;
use crate::dynamo::{Table, backend};

pub const INDEX_NAME: &str = "ByGeoCell";
/// The index's partition key: the station's geohash of `geo::CELL_PRECISION` characters.
pub const CELL_ATTRIBUTE: &str = "geoCell";
/// The index's sort key: the station's geohash of `geo::GEOHASH_PRECISION` characters.
pub const GEOHASH_ATTRIBUTE: &str = "geohash";

/// [`StationLocator`] on the stations table's `ByGeoCell` index.
pub struct GeoIndex(pub Table);

fn located(item: &Item) -> Result<(StationId, GeoPoint), StoreError> {
    let malformed = |name| StoreError::Backend(Box::new(Malformed(name)));
    let id = StationId::parse(&get_s(item, "stationId").map_err(backend)?).map_err(|_| malformed("stationId"))?;
    let latitude = opt_f64(item, "latitude").ok_or(malformed("latitude"))?;
    let longitude = opt_f64(item, "longitude").ok_or(malformed("longitude"))?;
    let location = GeoPoint::new(latitude, longitude).ok_or(malformed("latitude"))?;
    Ok((id, location))
}

#[async_trait]
impl StationLocator for GeoIndex {
    /// One Query per page (1 MB of index entries, some ten thousand stations), usually one.
    async fn in_cell(&self, cell: &str) -> Result<Vec<(StationId, GeoPoint)>, StoreError> {
        let query = self
            .0
            .client
            .query()
            .table_name(self.0.name()?)
            .index_name(INDEX_NAME)
            .key_condition_expression("#cell = :cell")
            .expression_attribute_names("#cell", CELL_ATTRIBUTE)
            .expression_attribute_values(":cell", s(cell))
            .projection_expression("stationId, latitude, longitude");
        let items = query
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(backend)?;
        items.iter().map(located).collect()
    }
}
