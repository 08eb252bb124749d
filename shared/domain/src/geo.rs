//! Stations near a point, from a geohash index.
//!
//! Every located station is indexed under two keys computed by [`index_keys`]: its *cell*, the
//! geohash prefix of [`CELL_PRECISION`] characters (the index's partition key), and its geohash of
//! [`GEOHASH_PRECISION`] characters (the sort key). [`near`] asks the index for each cell that the
//! search circle touches ([`covering_cells`]), keeps what is within the radius by the haversine
//! distance, and sorts by distance. It never lists every station.
//!
//! Geohash: longitude and latitude are bisected alternately, longitude first; each bisection
//! gives one bit (1: the upper half, a value on the midpoint included), and every five bits are
//! one character of the alphabet `0123456789bcdefghjkmnpqrstuvwxyz`.

use async_trait::async_trait;
use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::task::Poll;

use crate::ports::StoreError;
use crate::station::{GeoPoint, StationId};

const ALPHABET: &[u8; 32] = b"0123456789bcdefghjkmnpqrstuvwxyz";

/// The longest geohash we make or read: 60 bits, cells of a few centimetres.
pub const MAX_PRECISION: usize = 12;
/// Length of the index's partition key: cells of 0.3515625° x 0.17578125°, about 39.1 km x 19.5 km
/// at the equator (narrower towards the poles).
pub const CELL_PRECISION: usize = 4;
/// Length of the index's sort key: cells of about 4.8 m x 4.8 m.
pub const GEOHASH_PRECISION: usize = 9;
/// The largest search radius.
pub const MAX_RADIUS_M: f64 = 50_000.0;
/// The most index cells one search may query. A 50 km circle touches at most 24 cells at the
/// equator, 27 at 45° and about 90 at 80° of latitude; close to a pole it touches whole rings of
/// ever narrower cells (thousands at the pole itself), and such a search is refused with
/// [`GeoError::TooManyCells`] rather than sent as thousands of queries.
pub const MAX_CELLS: usize = 128;
/// The most stations one search returns.
pub const MAX_LIMIT: usize = 100;
/// Mean Earth radius (IUGG), for the haversine distance.
pub const EARTH_RADIUS_M: f64 = 6_371_008.8;
/// How many cells [`near`] queries at once.
const CONCURRENT_QUERIES: usize = 16;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GeoError {
    #[error("geohash precision must be 1 to 12 characters")]
    InvalidPrecision,
    #[error("not a geohash of 1 to 12 characters from 0-9 b-h j k m n p-z")]
    InvalidGeohash,
    #[error("the radius must be a positive number of metres")]
    InvalidRadius,
    #[error("the radius may be at most 50 km")]
    RadiusTooLarge,
    #[error("the search circle touches {cells} index cells, more than {max}: too close to a pole")]
    TooManyCells { cells: usize, max: usize },
}

// ---------------------------------------------------------------------------------------------
// Geohash

/// Bits of longitude and of latitude in a geohash of `precision` characters.
fn bits(precision: usize) -> (u32, u32) {
    let total = 5 * precision as u32;
    (total.div_ceil(2), total / 2)
}

/// The index (0 .. 2^bits) of the bisection interval of [lo, hi] that holds `value`. Exact: the
/// midpoints are dyadic fractions that f64 represents exactly.
fn bisect(value: f64, mut lo: f64, mut hi: f64, bits: u32) -> u64 {
    let mut index = 0;
    for _ in 0..bits {
        let mid = (lo + hi) / 2.0;
        index <<= 1;
        if value >= mid {
            index |= 1;
            lo = mid;
        } else {
            hi = mid;
        }
    }
    index
}

/// The geohash of the cell in column `lon_index`, row `lat_index` of the grid of `precision`.
fn interleave(lon_index: u64, lat_index: u64, precision: usize) -> String {
    let (lon_bits, lat_bits) = bits(precision);
    let mut hash = String::with_capacity(precision);
    let mut char_bits = 0;
    for i in 0..5 * precision as u32 {
        let bit = if i % 2 == 0 {
            (lon_index >> (lon_bits - 1 - i / 2)) & 1
        } else {
            (lat_index >> (lat_bits - 1 - i / 2)) & 1
        };
        char_bits = (char_bits << 1) | bit as usize;
        if i % 5 == 4 {
            hash.push(ALPHABET[char_bits] as char);
            char_bits = 0;
        }
    }
    hash
}

/// The geohash of `precision` characters (1 to 12) of the cell that holds `point`.
pub fn encode(point: GeoPoint, precision: usize) -> Result<String, GeoError> {
    if !(1..=MAX_PRECISION).contains(&precision) {
        return Err(GeoError::InvalidPrecision);
    }
    let (lon_bits, lat_bits) = bits(precision);
    let column = bisect(point.longitude(), -180.0, 180.0, lon_bits);
    let row = bisect(point.latitude(), -90.0, 90.0, lat_bits);
    Ok(interleave(column, row, precision))
}

/// A geohash cell: latitudes `south..=north`, longitudes `west..=east`, in degrees.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CellBounds {
    pub south: f64,
    pub north: f64,
    pub west: f64,
    pub east: f64,
}

impl CellBounds {
    fn of(column: u64, row: u64, precision: usize) -> Self {
        let (lon_bits, lat_bits) = bits(precision);
        let width = 360.0 / (1u64 << lon_bits) as f64;
        let height = 180.0 / (1u64 << lat_bits) as f64;
        let west = -180.0 + column as f64 * width;
        let south = -90.0 + row as f64 * height;
        Self {
            south,
            north: south + height,
            west,
            east: west + width,
        }
    }

    pub fn center(&self) -> GeoPoint {
        GeoPoint::new((self.south + self.north) / 2.0, (self.west + self.east) / 2.0)
            .expect("a cell's centre is a valid point")
    }

    /// True when `point` is in the cell, its edges included.
    pub fn contains(&self, point: GeoPoint) -> bool {
        (self.south..=self.north).contains(&point.latitude()) && (self.west..=self.east).contains(&point.longitude())
    }
}

/// The bounds of the cell that `geohash` names (1 to 12 characters, lower case).
pub fn decode(geohash: &str) -> Result<CellBounds, GeoError> {
    let precision = geohash.len();
    if !(1..=MAX_PRECISION).contains(&precision) {
        return Err(GeoError::InvalidGeohash);
    }
    let (mut column, mut row) = (0u64, 0u64);
    let mut i = 0;
    for byte in geohash.bytes() {
        let value = ALPHABET
            .iter()
            .position(|&c| c == byte)
            .ok_or(GeoError::InvalidGeohash)? as u64;
        for shift in (0..5).rev() {
            let bit = (value >> shift) & 1;
            if i % 2 == 0 {
                column = (column << 1) | bit;
            } else {
                row = (row << 1) | bit;
            }
            i += 1;
        }
    }
    Ok(CellBounds::of(column, row, precision))
}

// ---------------------------------------------------------------------------------------------
// Distances and covering cells

fn haversine(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let (phi1, phi2) = (lat1.to_radians(), lat2.to_radians());
    let d_phi = phi2 - phi1;
    let d_lambda = (lon2 - lon1).to_radians();
    let h = (d_phi / 2.0).sin().powi(2) + phi1.cos() * phi2.cos() * (d_lambda / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_M * h.sqrt().min(1.0).asin()
}

/// The great-circle distance in metres (haversine, on a sphere of [`EARTH_RADIUS_M`]).
pub fn distance_m(a: GeoPoint, b: GeoPoint) -> f64 {
    haversine(a.latitude(), a.longitude(), b.latitude(), b.longitude())
}

/// The distance in metres from `point` to the nearest point of `cell` (0 inside it).
///
/// For a fixed latitude the distance grows with the longitude difference, so unless `point`'s
/// longitude is within the cell's, the nearest point is on the nearer of its two meridian edges.
/// Along a meridian, cos(distance) = A sin φ + B cos φ, a sinusoid in φ whose peak is at
/// atan2(A, B): the nearest point of an edge is that peak if the edge holds it, else an end.
fn distance_to_cell(point: GeoPoint, cell: &CellBounds) -> f64 {
    let (lat, lon) = (point.latitude(), point.longitude());
    let mut best = f64::INFINITY;
    let within_longitudes = [lon, lon - 360.0, lon + 360.0]
        .iter()
        .any(|l| (cell.west..=cell.east).contains(l));
    if within_longitudes {
        best = haversine(lat, lon, lat.clamp(cell.south, cell.north), lon);
    }
    let phi = lat.to_radians();
    for meridian in [cell.west, cell.east] {
        let peak = phi
            .sin()
            .atan2(phi.cos() * (meridian - lon).to_radians().cos())
            .to_degrees();
        for edge_lat in [cell.south, cell.north, peak.clamp(cell.south, cell.north)] {
            best = best.min(haversine(lat, lon, edge_lat, meridian));
        }
    }
    best
}

fn check_radius(radius_m: f64) -> Result<(), GeoError> {
    if radius_m.is_nan() || radius_m <= 0.0 {
        return Err(GeoError::InvalidRadius);
    }
    if radius_m > MAX_RADIUS_M {
        return Err(GeoError::RadiusTooLarge);
    }
    Ok(())
}

/// The cells of `precision` that the circle touches, in geohash order.
///
/// The candidates are the cells of the circle's latitude/longitude bounding box (longitudes on
/// both sides of the antimeridian when it crosses it; every longitude when it holds a pole);
/// each is kept only if its nearest point is within the radius.
fn cells_touching(center: GeoPoint, radius_m: f64, precision: usize) -> Vec<String> {
    let (lat, lon) = (center.latitude(), center.longitude());
    // A hair wider than the circle, so that rounding cannot lose a cell on its edge.
    let delta = (radius_m / EARTH_RADIUS_M).to_degrees() * (1.0 + 1e-9) + 1e-9;
    let full = vec![(-180.0, 180.0)];
    let longitudes = if lat + delta >= 90.0 || lat - delta <= -90.0 {
        full
    } else {
        // The meridians tangent to the circle.
        let ratio = delta.to_radians().sin() / lat.to_radians().cos();
        if ratio >= 1.0 {
            full
        } else {
            let half_width = ratio.asin().to_degrees() * (1.0 + 1e-9) + 1e-9;
            let (west, east) = (lon - half_width, lon + half_width);
            // -180 and 180 are one meridian in two cells: a range that reaches one gets both.
            if west <= -180.0 {
                vec![(west + 360.0, 180.0), (-180.0, east)]
            } else if east >= 180.0 {
                vec![(west, 180.0), (-180.0, east - 360.0)]
            } else {
                vec![(west, east)]
            }
        }
    };
    let (lon_bits, lat_bits) = bits(precision);
    let first_row = bisect((lat - delta).max(-90.0), -90.0, 90.0, lat_bits);
    let last_row = bisect((lat + delta).min(90.0), -90.0, 90.0, lat_bits);
    let slack = radius_m * 1e-9 + 1e-3;
    let mut cells = BTreeSet::new();
    for (west, east) in longitudes {
        let first_column = bisect(west.max(-180.0), -180.0, 180.0, lon_bits);
        let last_column = bisect(east.min(180.0), -180.0, 180.0, lon_bits);
        for row in first_row..=last_row {
            for column in first_column..=last_column {
                if distance_to_cell(center, &CellBounds::of(column, row, precision)) <= radius_m + slack {
                    cells.insert(interleave(column, row, precision));
                }
            }
        }
    }
    cells.into_iter().collect()
}

/// The index cells (geohashes of [`CELL_PRECISION`]) that the circle of `radius_m` metres around
/// `center` touches, in geohash order: every point within the radius lies in one of them.
/// The radius must be positive and at most [`MAX_RADIUS_M`]; at most [`MAX_CELLS`] cells.
pub fn covering_cells(center: GeoPoint, radius_m: f64) -> Result<Vec<String>, GeoError> {
    check_radius(radius_m)?;
    let cells = cells_touching(center, radius_m, CELL_PRECISION);
    if cells.len() > MAX_CELLS {
        return Err(GeoError::TooManyCells {
            cells: cells.len(),
            max: MAX_CELLS,
        });
    }
    Ok(cells)
}

/// The index keys of a station at `location`: (cell, geohash), the geohash prefix of
/// [`CELL_PRECISION`] and the geohash of [`GEOHASH_PRECISION`] characters.
pub fn index_keys(location: GeoPoint) -> (String, String) {
    let geohash = encode(location, GEOHASH_PRECISION).expect("the index precision is valid");
    (geohash[..CELL_PRECISION].to_owned(), geohash)
}

// ---------------------------------------------------------------------------------------------
// Searching the index

/// A station found near the search centre.
#[derive(Debug, Clone, PartialEq)]
pub struct Nearby {
    pub station: StationId,
    pub location: GeoPoint,
    pub distance_m: f64,
}

/// The geohash index of located stations.
#[async_trait]
pub trait StationLocator: Send + Sync {
    /// Every station whose location is in `cell` (a geohash of [`CELL_PRECISION`] characters).
    async fn in_cell(&self, cell: &str) -> Result<Vec<(StationId, GeoPoint)>, StoreError>;
}

#[derive(Debug, thiserror::Error)]
pub enum NearError {
    #[error(transparent)]
    Geo(#[from] GeoError),
    #[error("the limit must be 1 to 100")]
    InvalidLimit,
    #[error(transparent)]
    Store(#[from] StoreError),
}

type CellQuery<'a> = Pin<Box<dyn Future<Output = Result<Vec<(StationId, GeoPoint)>, StoreError>> + Send + 'a>>;

/// Runs the futures concurrently; their outputs in their order.
async fn join_all<T>(mut futures: Vec<Pin<Box<dyn Future<Output = T> + Send + '_>>>) -> Vec<T> {
    let mut outputs: Vec<Option<T>> = futures.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (future, output) in futures.iter_mut().zip(outputs.iter_mut()) {
            if output.is_none() {
                match future.as_mut().poll(cx) {
                    Poll::Ready(value) => *output = Some(value),
                    Poll::Pending => pending = true,
                }
            }
        }
        if pending { Poll::Pending } else { Poll::Ready(()) }
    })
    .await;
    outputs
        .into_iter()
        .map(|o| o.expect("every future completed"))
        .collect()
}

/// The stations within `radius_m` metres of `center`, nearest first (ties by id), at most
/// `limit` (1 to [`MAX_LIMIT`]). One index query per covering cell, a few at a time.
pub async fn near(
    locator: &dyn StationLocator,
    center: GeoPoint,
    radius_m: f64,
    limit: usize,
) -> Result<Vec<Nearby>, NearError> {
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(NearError::InvalidLimit);
    }
    let cells = covering_cells(center, radius_m)?;
    let mut found = Vec::new();
    for chunk in cells.chunks(CONCURRENT_QUERIES) {
        let queries: Vec<CellQuery<'_>> = chunk.iter().map(|cell| locator.in_cell(cell)).collect();
        for answer in join_all(queries).await {
            for (station, location) in answer? {
                let distance_m = distance_m(center, location);
                if distance_m <= radius_m {
                    found.push(Nearby {
                        station,
                        location,
                        distance_m,
                    });
                }
            }
        }
    }
    found.sort_by(|a, b| {
        a.distance_m
            .total_cmp(&b.distance_m)
            .then_with(|| a.station.cmp(&b.station))
    });
    found.truncate(limit);
    Ok(found)
}

/// The index in memory, for tests. Same contract as the DynamoDB adapter.
#[derive(Default)]
pub struct MemoryLocator(pub Mutex<BTreeMap<StationId, GeoPoint>>);

impl MemoryLocator {
    /// Indexes `station` at `location`, replacing where it was.
    pub fn put(&self, station: StationId, location: GeoPoint) {
        self.0.lock().unwrap().insert(station, location);
    }

    pub fn remove(&self, station: &StationId) {
        self.0.lock().unwrap().remove(station);
    }
}

#[async_trait]
impl StationLocator for MemoryLocator {
    async fn in_cell(&self, cell: &str) -> Result<Vec<(StationId, GeoPoint)>, StoreError> {
        let map = self.0.lock().unwrap();
        Ok(map
            .iter()
            .filter(|(_, location)| index_keys(**location).0 == cell)
            .map(|(id, location)| (id.clone(), *location))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn point(lat: f64, lon: f64) -> GeoPoint {
        GeoPoint::new(lat, lon).unwrap()
    }

    fn id(raw: &str) -> StationId {
        StationId::parse(raw).unwrap()
    }

    /// The point `distance_m` from `from` on the initial bearing `bearing_deg` (great circle).
    fn destination(from: GeoPoint, bearing_deg: f64, distance_m: f64) -> GeoPoint {
        let (phi1, lambda1) = (from.latitude().to_radians(), from.longitude().to_radians());
        let (theta, d) = (bearing_deg.to_radians(), distance_m / EARTH_RADIUS_M);
        let phi2 = (phi1.sin() * d.cos() + phi1.cos() * d.sin() * theta.cos())
            .clamp(-1.0, 1.0)
            .asin();
        let lambda2 = lambda1 + (theta.sin() * d.sin() * phi1.cos()).atan2(d.cos() - phi1.sin() * phi2.sin());
        let lon = (lambda2.to_degrees() + 540.0).rem_euclid(360.0) - 180.0;
        point(phi2.to_degrees().clamp(-90.0, 90.0), lon.clamp(-180.0, 180.0))
    }

    #[test]
    fn encodes_known_geohashes() {
        assert_eq!(encode(point(57.64911, 10.40744), 11).unwrap(), "u4pruydqqvj");
        assert_eq!(encode(point(42.6, -5.6), 5).unwrap(), "ezs42");
        assert_eq!(encode(point(0.0, 0.0), 1).unwrap(), "s");
        assert_eq!(encode(point(-90.0, -180.0), 12).unwrap(), "000000000000");
        assert_eq!(encode(point(90.0, 180.0), 12).unwrap(), "zzzzzzzzzzzz");
        assert_eq!(encode(point(57.64911, 10.40744), 4).unwrap(), "u4pr");
        assert_eq!(encode(point(0.0, 0.0), 0), Err(GeoError::InvalidPrecision));
        assert_eq!(encode(point(0.0, 0.0), 13), Err(GeoError::InvalidPrecision));
    }

    #[test]
    fn decodes_cells() {
        let cell = decode("ezs42").unwrap();
        assert_eq!(
            cell,
            CellBounds {
                south: 42.5830078125,
                north: 42.626953125,
                west: -5.625,
                east: -5.5810546875,
            }
        );
        let center = cell.center();
        assert!((center.latitude() - 42.605).abs() < 1e-3 && (center.longitude() - -5.603).abs() < 1e-3);

        let cell = decode("u4pruydqqvj").unwrap();
        assert!(cell.contains(point(57.64911, 10.40744)));
        assert!(cell.north - cell.south < 1e-5 && cell.east - cell.west < 2e-5);

        let world = decode("s").unwrap();
        assert_eq!(
            (world.south, world.north, world.west, world.east),
            (0.0, 45.0, 0.0, 45.0)
        );
        for bad in ["", "a", "u4pi", "U4PR", "0000000000000", "u4 r"] {
            assert_eq!(decode(bad), Err(GeoError::InvalidGeohash), "{bad:?}");
        }
    }

    #[test]
    fn cell_sizes_match_the_documentation() {
        let cell = decode("s000").unwrap();
        assert_eq!(cell.east - cell.west, 0.3515625);
        assert_eq!(cell.north - cell.south, 0.17578125);
        let (west, east) = (point(0.0, cell.west), point(0.0, cell.east));
        assert!((distance_m(west, east) - 39_093.0).abs() < 1.0);
    }

    proptest! {
        #[test]
        fn encode_and_decode_agree(lat in -90.0..=90.0f64, lon in -180.0..=180.0f64, precision in 1..=12usize) {
            let p = point(lat, lon);
            let hash = encode(p, precision).unwrap();
            prop_assert_eq!(hash.len(), precision);
            prop_assert!(decode(&hash).unwrap().contains(p));
            prop_assert!(encode(p, 12).unwrap().starts_with(&hash));
            prop_assert_eq!(encode(decode(&hash).unwrap().center(), precision).unwrap(), hash);
        }
    }

    #[test]
    fn haversine_distances() {
        // Paris - London, about 343.5 km.
        let d = distance_m(point(48.8566, 2.3522), point(51.5074, -0.1278));
        assert!((d - 343_500.0).abs() < 1_000.0, "{d}");
        // One degree of a meridian.
        assert!((distance_m(point(0.0, 0.0), point(1.0, 0.0)) - 111_195.0).abs() < 1.0);
        // Across the antimeridian.
        let d = distance_m(point(0.0, 179.9), point(0.0, -179.9));
        assert!((d - 22_239.0).abs() < 1.0, "{d}");
        assert!(distance_m(point(90.0, 0.0), point(90.0, 123.0)) < 1e-6);
        assert!(distance_m(point(0.0, 180.0), point(0.0, -180.0)) < 1e-6);
    }

    #[test]
    fn radii_are_checked() {
        let c = point(52.37, 4.89);
        assert_eq!(covering_cells(c, 0.0), Err(GeoError::InvalidRadius));
        assert_eq!(covering_cells(c, -1.0), Err(GeoError::InvalidRadius));
        assert_eq!(covering_cells(c, f64::NAN), Err(GeoError::InvalidRadius));
        assert_eq!(covering_cells(c, 50_000.1), Err(GeoError::RadiusTooLarge));
        assert_eq!(covering_cells(c, f64::INFINITY), Err(GeoError::RadiusTooLarge));
        assert!(covering_cells(c, MAX_RADIUS_M).is_ok());
        assert_eq!(covering_cells(c, 1.0).unwrap(), vec![encode(c, 4).unwrap()]);
    }

    #[test]
    fn covering_crosses_the_antimeridian() {
        let cells = covering_cells(point(-17.7, 179.95), 20_000.0).unwrap();
        assert!(cells.iter().any(|c| decode(c).unwrap().west == -180.0), "{cells:?}");
        assert!(cells.iter().any(|c| decode(c).unwrap().east == 180.0), "{cells:?}");
        let cells = covering_cells(point(65.0, -180.0), 10_000.0).unwrap();
        assert!(cells.iter().any(|c| decode(c).unwrap().west == -180.0), "{cells:?}");
        assert!(cells.iter().any(|c| decode(c).unwrap().east == 180.0), "{cells:?}");
        // 180 and -180 are the same meridian, whichever way a point names it.
        for lon in [180.0, -180.0] {
            let cells = covering_cells(point(0.0, lon), 1.0).unwrap();
            assert_eq!(cells.len(), 4, "{cells:?}");
        }
    }

    #[test]
    fn covering_near_the_poles() {
        // Longyearbyen, Svalbard (78.2°N): served, with more, narrower cells.
        let cells = covering_cells(point(78.22, 15.65), MAX_RADIUS_M).unwrap();
        assert!(cells.len() <= MAX_CELLS, "{}", cells.len());
        // McMurdo Station (77.85°S).
        assert!(covering_cells(point(-77.85, 166.67), MAX_RADIUS_M).is_ok());
        // A circle around the pole touches every cell of its rows.
        assert!(matches!(
            covering_cells(point(90.0, 0.0), MAX_RADIUS_M),
            Err(GeoError::TooManyCells { max: MAX_CELLS, .. })
        ));
        assert!(matches!(
            covering_cells(point(-89.9, 45.0), 10_000.0),
            Err(GeoError::TooManyCells { .. })
        ));
        // A small one still works: cells there are 340 m wide, but the circle touches few.
        let cells = covering_cells(point(89.5, 0.0), 1_000.0).unwrap();
        assert!(cells.len() <= 16, "{cells:?}");
    }

    /// Circle sizes by latitude, for the documentation of MAX_CELLS. `cargo test -- --nocapture`.
    #[test]
    fn covering_set_sizes() {
        let mut worst_by_band = Vec::new();
        for band in [0.0, 30.0, 45.0, 60.0, 70.0, 75.0, 80.0, 83.0] {
            let mut worst = 0;
            for i in 0..400 {
                let lat = band + (i as f64 * 0.0137) % 1.0;
                let lon = (i as f64 * 0.731) % 1.0 - 0.5;
                worst = worst.max(cells_touching(point(lat, lon), MAX_RADIUS_M, CELL_PRECISION).len());
            }
            worst_by_band.push((band, worst));
        }
        println!("largest covering set for 50 km, by latitude: {worst_by_band:?}");
        assert!(worst_by_band[0].1 <= 24);
        assert!(
            worst_by_band
                .iter()
                .filter(|(band, _)| *band <= 80.0)
                .all(|(_, n)| *n <= MAX_CELLS)
        );
    }

    static LARGEST: AtomicUsize = AtomicUsize::new(0);

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2_000))]

        #[test]
        fn covering_cells_hold_every_point_within_the_radius(
            lat in -90.0..=90.0f64,
            lon in -180.0..=180.0f64,
            radius in 1.0..=MAX_RADIUS_M,
            samples in proptest::collection::vec((0.0..360.0f64, 0.0..=1.0f64), 64),
        ) {
            let center = point(lat, lon);
            // Bypasses MAX_CELLS, so that circles at the poles are checked too.
            let cells = cells_touching(center, radius, CELL_PRECISION);
            match covering_cells(center, radius) {
                Ok(covering) => prop_assert_eq!(&covering, &cells),
                Err(GeoError::TooManyCells { cells: n, .. }) => {
                    prop_assert_eq!(n, cells.len());
                    prop_assert!(lat.abs() > 80.0, "refused at {lat}");
                }
                Err(e) => prop_assert!(false, "{e}"),
            }
            // Towards each bearing: a random distance, and the edge itself.
            for (bearing, fraction) in samples {
                for d in [radius * fraction, radius] {
                    let p = destination(center, bearing, d);
                    if distance_m(center, p) <= radius {
                        let cell = index_keys(p).0;
                        prop_assert!(cells.contains(&cell), "{p:?} in {cell} is {} m away", distance_m(center, p));
                    }
                }
            }
            // And no cell is kept that the circle does not touch.
            for cell in &cells {
                let b = decode(cell).unwrap();
                prop_assert!(distance_to_cell(center, &b) <= radius + 1.0);
            }
        }

        #[test]
        fn covering_sets_stay_small_away_from_the_poles(
            lat in -80.0..=80.0f64,
            lon in -180.0..=180.0f64,
            radius in 1.0..=MAX_RADIUS_M,
        ) {
            let cells = covering_cells(point(lat, lon), radius).unwrap();
            if LARGEST.fetch_max(cells.len(), Ordering::Relaxed) < cells.len() {
                println!("largest covering set so far: {} cells at ({lat}, {lon}), radius {radius} m", cells.len());
            }
            prop_assert!(cells.len() <= MAX_CELLS);
            if lat.abs() <= 45.0 {
                prop_assert!(cells.len() <= 32, "{} cells at {lat}", cells.len());
            }
        }
    }

    struct Counting<'a>(&'a MemoryLocator, AtomicUsize);

    #[async_trait]
    impl StationLocator for Counting<'_> {
        async fn in_cell(&self, cell: &str) -> Result<Vec<(StationId, GeoPoint)>, StoreError> {
            self.1.fetch_add(1, Ordering::Relaxed);
            self.0.in_cell(cell).await
        }
    }

    #[tokio::test]
    async fn near_finds_sorts_and_limits() {
        let index = MemoryLocator::default();
        let amsterdam = point(52.3731, 4.8922);
        index.put(id("AMS-1"), destination(amsterdam, 10.0, 1_000.0));
        index.put(id("AMS-2"), destination(amsterdam, 200.0, 2_000.0));
        index.put(id("AMS-3"), destination(amsterdam, 90.0, 5_000.0));
        index.put(id("AMS-0"), amsterdam);
        index.put(id("UTRECHT"), point(52.0907, 5.1214));
        index.put(id("PARIS"), point(48.8566, 2.3522));
        let counting = Counting(&index, AtomicUsize::new(0));

        let found = near(&counting, amsterdam, 10_000.0, 10).await.unwrap();
        let ids: Vec<&str> = found.iter().map(|n| n.station.as_str()).collect();
        assert_eq!(ids, ["AMS-0", "AMS-1", "AMS-2", "AMS-3"]);
        assert_eq!(found[0].distance_m, 0.0);
        assert!((found[3].distance_m - 5_000.0).abs() < 0.01);
        assert_eq!(
            counting.1.load(Ordering::Relaxed),
            covering_cells(amsterdam, 10_000.0).unwrap().len()
        );

        let found = near(&counting, amsterdam, 50_000.0, 5).await.unwrap();
        assert_eq!(found.len(), 5);
        assert_eq!(found[4].station.as_str(), "UTRECHT");
        let found = near(&counting, amsterdam, 50_000.0, 2).await.unwrap();
        assert_eq!(found.len(), 2);

        index.remove(&id("AMS-0"));
        let found = near(&index, amsterdam, 100.0, 1).await.unwrap();
        assert!(found.is_empty());

        assert!(matches!(
            near(&index, amsterdam, 1.0, 0).await,
            Err(NearError::InvalidLimit)
        ));
        assert!(matches!(
            near(&index, amsterdam, 1.0, 101).await,
            Err(NearError::InvalidLimit)
        ));
        assert!(matches!(
            near(&index, amsterdam, 60_000.0, 10).await,
            Err(NearError::Geo(GeoError::RadiusTooLarge))
        ));
    }

    #[tokio::test]
    async fn near_orders_ties_by_id_and_crosses_the_antimeridian() {
        let index = MemoryLocator::default();
        let suva = point(-17.0, 180.0);
        index.put(id("EAST-B"), point(-17.0, 179.99));
        index.put(id("EAST-A"), point(-17.0, 179.99));
        index.put(id("WEST"), point(-17.0, -179.98));
        let found = near(&index, suva, 5_000.0, 100).await.unwrap();
        let ids: Vec<&str> = found.iter().map(|n| n.station.as_str()).collect();
        assert_eq!(ids, ["EAST-A", "EAST-B", "WEST"]);
    }

    #[tokio::test]
    async fn near_passes_store_errors_on() {
        struct Broken;
        #[async_trait]
        impl StationLocator for Broken {
            async fn in_cell(&self, _cell: &str) -> Result<Vec<(StationId, GeoPoint)>, StoreError> {
                Err(StoreError::Backend("down".into()))
            }
        }
        assert!(matches!(
            near(&Broken, point(0.0, 0.0), 1_000.0, 10).await,
            Err(NearError::Store(_))
        ));
    }

    #[test]
    fn near_is_send() {
        fn assert_send<T: Send>(_: &T) {}
        let index = MemoryLocator::default();
        assert_send(&near(&index, point(0.0, 0.0), 1.0, 1));
    }

    #[test]
    fn index_keys_are_prefix_and_geohash() {
        let (cell, geohash) = index_keys(point(57.64911, 10.40744));
        assert_eq!((cell.as_str(), geohash.as_str()), ("u4pr", "u4pruydqq"));
    }
}
