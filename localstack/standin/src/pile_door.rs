//! The pile door's path rewrite, as the CloudFront Function in front of API Gateway does it in AWS
//! (`infra/lib/cloudfront/ocpp-path-rewrite.js`): `/ocpp/<stationId>` becomes `$connect`'s
//! `stationId` query parameter, whatever `stationId` the pile put in its own query string; any
//! other path is refused 404, and an id that cannot be a station id 400, before any function
//! runs. Both implementations run the same table of cases (`infra/test/ocpp-path-rewrite-cases.json`).
//!
//! The rules, as the JavaScript has them: the path is `/ocpp/` and one non-empty segment; the
//! segment is percent-decoded strictly (`decodeURIComponent`: `%` needs two hex digits, the bytes
//! must be UTF-8); the id is 1 to 48 characters of `A-Z a-z 0-9 * - _ = + | @ .` (so never `:`).

/// What the door does with a handshake's path: hands `$connect` the station id and the pile's
/// other query parameters, or answers with a status itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rewrite {
    Connect {
        station_id: String,
        query: Vec<(String, String)>,
    },
    Refuse(u16),
}

const OCPP_PREFIX: &str = "/ocpp/";
const MAX_STATION_ID_LENGTH: usize = 48;

/// `path` as the pile sent it (percent-encoded), `query` its decoded query parameters.
pub fn rewrite(path: &str, query: Vec<(String, String)>) -> Rewrite {
    let Some(raw) = path.strip_prefix(OCPP_PREFIX) else {
        return Rewrite::Refuse(404);
    };
    if raw.is_empty() || raw.contains('/') {
        return Rewrite::Refuse(404);
    }
    let Some(station_id) = decode_uri_component(raw) else {
        return Rewrite::Refuse(400);
    };
    let allowed = |c: char| c.is_ascii_alphanumeric() || "*-_=+|@.".contains(c);
    if station_id.chars().count() > MAX_STATION_ID_LENGTH || !station_id.chars().all(allowed) {
        return Rewrite::Refuse(400);
    }
    let mut query: Vec<(String, String)> = query.into_iter().filter(|(name, _)| name != "stationId").collect();
    query.push(("stationId".into(), station_id.clone()));
    Rewrite::Connect { station_id, query }
}

/// JavaScript's `decodeURIComponent`: None where it throws (a `%` without two hex digits, or bytes
/// that are not UTF-8).
fn decode_uri_component(raw: &str) -> Option<String> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            // Two hex digits (from_str_radix alone would also take a sign: "%+1").
            let hex = bytes
                .get(i + 1..i + 3)
                .filter(|h| h.iter().all(u8::is_ascii_hexdigit))?;
            out.push(u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_like_javascript() {
        assert_eq!(decode_uri_component("a%2Bb+c").as_deref(), Some("a+b+c"));
        assert_eq!(decode_uri_component("%e2%82%ac").as_deref(), Some("€"));
        for broken in ["%", "%2", "%zz", "%+1", "%C3"] {
            assert_eq!(decode_uri_component(broken), None, "{broken}");
        }
    }
}
