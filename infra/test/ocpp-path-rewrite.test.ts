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

/** One row of the shared table: an accepted id (as $connect reads it) or the refusal's status. */
interface RewriteCase {
  uri: string;
  query?: Record<string, string>;
  stationId?: string;
  passed?: Record<string, string>;
  status?: number;
  why?: string;
}

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

  // The table the stand-in's Rust copy of this function runs too (localstack/standin/src/pile_door.rs):
  // one behaviour for the pile door in AWS and on a laptop.
  const table: { cases: RewriteCase[] } = JSON.parse(fs.readFileSync(`${__dirname}/ocpp-path-rewrite-cases.json`, 'utf8'));

  test.each(table.cases.map((c) => [c.uri, c.query ?? {}, c] as const))('%s %j: as the shared table says', (uri, query, expected) => {
    const querystring: QueryString = Object.fromEntries(Object.entries(query).map(([name, value]) => [name, { value }]));
    const out = handler(event(uri, querystring));
    if (expected.status !== undefined) {
      const phrase = expected.status === 400 ? 'Bad Request' : 'Not Found';
      expect(out).toEqual({ statusCode: expected.status, statusDescription: phrase });
      return;
    }
    expect(out.uri).toBe('/ocpp');
    // API Gateway decodes query string values; the id goes out percent-encoded (a bare '+' would read as a space).
    const { stationId, ...passed } = out.querystring;
    expect(stationId.value).toBe(encodeURIComponent(expected.stationId!));
    expect(decodeURIComponent(stationId.value)).toBe(expected.stationId);
    expect(Object.fromEntries(Object.entries(passed).map(([name, v]) => [name, (v as { value: string }).value]))).toEqual(
      expected.passed ?? {},
    );
  });

  test('the table covers what the door must refuse and accept', () => {
    const statuses = table.cases.map((c) => c.status ?? 'ok');
    for (const status of [400, 404, 'ok']) expect(statuses).toContain(status);
  });

  test('a multi-valued stationId in the query string is replaced too', () => {
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
