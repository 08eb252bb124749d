import * as fs from 'fs';
import * as vm from 'vm';
import { OCPP_PATH_REWRITE_FILE } from '../lib/pile-door';

// The CloudFront Function's own code, run as CloudFront runs it: a script with a top-level
// `handler`, no module system, no Node globals.
const code = fs.readFileSync(OCPP_PATH_REWRITE_FILE, 'utf8');
const sandbox: Record<string, unknown> = {};
vm.runInNewContext(code, sandbox, { filename: OCPP_PATH_REWRITE_FILE });
const handler = sandbox.handler as (event: unknown) => any;

type QueryString = Record<string, { value: string; multiValue?: Array<{ value: string }> }>;

/** A viewer-request event as CloudFront Functions passes it (headers lower-case). */
function event(uri: string, querystring: QueryString = {}) {
  return {
    version: '1.0',
    context: { eventType: 'viewer-request', distributionDomainName: 'd111111abcdef8.cloudfront.net', requestId: 'r-1' },
    viewer: { ip: '198.51.100.7' },
    request: {
      method: 'GET',
      uri,
      querystring,
      headers: {
        host: { value: 'd111111abcdef8.cloudfront.net' },
        upgrade: { value: 'websocket' },
        connection: { value: 'Upgrade' },
        'sec-websocket-key': { value: 'dGhlIHNhbXBsZSBub25jZQ==' },
        'sec-websocket-version': { value: '13' },
        'sec-websocket-protocol': { value: 'ocpp2.0.1, ocpp1.6' },
        authorization: { value: 'Basic Q1AtMDAwMTpzZWNyZXQ=' },
      },
      cookies: {},
    },
  };
}

describe('OCPP path rewrite (CloudFront Function)', () => {
  test('is a CloudFront-sized script with a top-level handler', () => {
    expect(typeof handler).toBe('function');
    // CloudFront Functions take at most 10 KB of code.
    expect(Buffer.byteLength(code, 'utf8')).toBeLessThan(10 * 1024);
    expect(code).not.toMatch(/\b(require|module\.exports|import)\b\s*[(.{]/);
  });

  test('moves the station id from the path into ?stationId= and keeps the handshake intact', () => {
    const input = event('/ocpp/CP-0001');
    const out = handler(input);
    expect(out.uri).toBe('/ocpp');
    expect(out.querystring).toEqual({ stationId: { value: 'CP-0001' } });
    expect(out.method).toBe('GET');
    // Headers pass through untouched: the origin request policy forwards them.
    expect(out.headers).toEqual(event('/ocpp/CP-0001').request.headers);
  });

  test.each([
    ['A', 'A'],
    ['cp.1_2-3*4', 'cp.1_2-3*4'],
    ['x'.repeat(48), 'x'.repeat(48)],
    // Percent-encoded in the path, re-encoded for the query string (a bare '+' would be a space).
    ['CP%2B1', 'CP%2B1'],
    ['CP+1', 'CP%2B1'],
    ['a%7Cb%40c%3Dd', 'a%7Cb%40c%3Dd'],
    ['op@site=1|2', 'op%40site%3D1%7C2'],
    ['%41%42', 'AB'],
  ])('accepts %s as stationId=%s', (segment, value) => {
    expect(handler(event(`/ocpp/${segment}`)).querystring.stationId).toEqual({ value });
  });

  test.each([
    ['x'.repeat(49), 'longer than 48 characters'],
    ['CP:1', "contains ':' (the Basic auth separator)"],
    ['CP%3A1', "contains an encoded ':'"],
    ['CP%2', 'is a broken percent-encoding'],
    ['CP%00', 'contains a control character'],
    ['CP%201', 'contains a space'],
    ['caf%C3%A9', 'is not ASCII'],
    ['CP%2F1', "contains an encoded '/'"],
    ['%', 'is a lone percent sign'],
  ])('refuses %s with 400: the id %s', (segment) => {
    expect(handler(event(`/ocpp/${segment}`))).toEqual({ statusCode: 400, statusDescription: 'Bad Request' });
  });

  test.each([
    ['/'],
    ['/ocpp'],
    ['/ocpp/'],
    ['/ocpp/CP-1/'],
    ['/ocpp/CP-1/extra'],
    ['/ocpp2/CP-1'],
    ['/OCPP/CP-1'],
    ['/other/ocpp/CP-1'],
    ['/ocpp//CP-1'],
  ])('refuses %s with 404', (uri) => {
    expect(handler(event(uri))).toEqual({ statusCode: 404, statusDescription: 'Not Found' });
  });

  test('the path wins over a stationId the pile put in its query string; other parameters stay', () => {
    const out = handler(
      event('/ocpp/CP-0001', {
        stationId: { value: 'CP-9999', multiValue: [{ value: 'CP-9999' }, { value: 'CP-8888' }] },
        foo: { value: 'bar' },
      }),
    );
    expect(out.querystring).toEqual({ foo: { value: 'bar' }, stationId: { value: 'CP-0001' } });
  });

  test('a refused request never reaches the origin: the answer is a response, not a request', () => {
    const out = handler(event('/ocpp/CP:1'));
    expect(out.uri).toBeUndefined();
    expect(out.statusCode).toBe(400);
  });
});
