// CloudFront Function (cloudfront-js-2.0), viewer request, on the OCPP distribution.
//
// Piles connect to wss://<host>/ocpp/<stationId> (OCPP-J puts the identity in the last path
// segment). API Gateway WebSocket APIs accept no path after the stage, so this moves the id into
// the query string that $connect reads: /ocpp/<stationId> -> /ocpp?stationId=<stationId>.
// The stage is named `ocpp`, so `/ocpp` is the stage's own URL at the origin.
//
// Refused here, before any Lambda runs (each refusal ends the handshake):
// - 404 for any other path (including /ocpp and /ocpp/ without an id, or deeper paths);
// - 400 for an id that is not a valid station id: 1 to 48 characters (OCPP-J 2.0.1 part 4 and
//   the 1.6 security whitepaper), never ':' (it separates user and password in Basic auth), and
//   otherwise the characters `csms-domain`'s StationId::parse accepts: A-Z a-z 0-9 * - _ = + | @ .
//   A percent-encoded id is decoded first, so `CP%2B1` is the station `CP+1`.
// Whatever `stationId` the pile put in its own query string is replaced: the path is the identity
// the pile authenticates as.
//
// This file is loaded as the function's code by lib/pile-door.ts and unit-tested by
// test/ocpp-path-rewrite.test.ts; it must stay plain JavaScript with a top-level `handler`
// (no modules, no exports) because that is what CloudFront runs.

var OCPP_PREFIX = '/ocpp/';
var MAX_STATION_ID_LENGTH = 48;
var STATION_ID = /^[A-Za-z0-9*\-_=+|@.]+$/;

function refuse(statusCode, statusDescription) {
  return { statusCode: statusCode, statusDescription: statusDescription };
}

function handler(event) {
  var request = event.request;
  var uri = request.uri;
  if (uri.indexOf(OCPP_PREFIX) !== 0) {
    return refuse(404, 'Not Found');
  }
  var raw = uri.substring(OCPP_PREFIX.length);
  if (raw.length === 0 || raw.indexOf('/') !== -1) {
    return refuse(404, 'Not Found');
  }
  var stationId;
  try {
    stationId = decodeURIComponent(raw);
  } catch (e) {
    return refuse(400, 'Bad Request');
  }
  if (
    stationId.length > MAX_STATION_ID_LENGTH ||
    stationId.indexOf(':') !== -1 ||
    !STATION_ID.test(stationId)
  ) {
    return refuse(400, 'Bad Request');
  }
  var querystring = {};
  for (var name in request.querystring) {
    if (name !== 'stationId') {
      querystring[name] = request.querystring[name];
    }
  }
  // CloudFront forwards query string values as the function leaves them, so the id goes out
  // percent-encoded (A-Z a-z 0-9 * - _ . stay as they are; = + | @ become %3D %2B %7C %40; a
  // bare '+' would read as a space) and API Gateway decodes it into queryStringParameters.
  querystring.stationId = { value: encodeURIComponent(stationId) };
  request.uri = '/ocpp';
  request.querystring = querystring;
  return request;
}
