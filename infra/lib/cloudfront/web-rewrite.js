// CloudFront Function (viewer request) of the web door: the single-page apps' routes are their
// entry pages. A path whose last segment has no file extension is the console's index.html under
// /console, the driver app's index.html elsewhere; files are served as they are. The local web door
// (localstack/standin/src/web.rs, `file_for`) does the same.
function handler(event) {
  var request = event.request;
  var uri = request.uri;
  var last = uri.substring(uri.lastIndexOf('/') + 1);
  if (last.indexOf('.') === -1) {
    request.uri = uri === '/console' || uri.indexOf('/console/') === 0 ? '/console/index.html' : '/index.html';
  }
  return request;
}
