import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { buildApp } from '../lib/app';
import { SETTINGS, SETTINGS_DIR, SettingsError, configFromSettings, readSettingsFile } from '../lib/config';
import { resource, synth } from './template';

const ACCOUNT = '123456789012';
const cert = (region: string, account = ACCOUNT) =>
  `arn:aws:acm:${region}:${account}:certificate/00000000-0000-4000-8000-00000000000a`;

/** An app with `-c` context as the CDK CLI would give it, never bundling. */
const appWith = (context: Record<string, unknown>) =>
  new App({ context: { 'aws:cdk:bundling-stacks': [], 'aws:cdk:enable-path-metadata': true, ...context } });

/** A settings directory holding the given files. */
function settingsDir(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'csms-env-'));
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
  return dir;
}

describe('choosing an environment', () => {
  test('no -c env: refused, naming the files there', () => {
    expect(() => buildApp(appWith({}), { deploying: true })).toThrow(SettingsError);
    expect(() => buildApp(appWith({}), { deploying: true })).toThrow(/no environment given: choose an environment with -c env=<name>.*example, local/);
  });

  test('an environment without a file: refused, never a csms-dev stack from defaults', () => {
    expect(() => buildApp(appWith({ env: 'prod' }), { deploying: true })).toThrow(/infra\/env\/prod.json does not exist/);
    expect(() => buildApp(appWith({ env: '../etc' }), { deploying: true })).toThrow(/must be 1-16 characters/);
  });

  test('a setting given with -c is refused, not silently ignored or mixed in', () => {
    expect(() => buildApp(appWith({ env: 'example', ocppDomainName: 'x.example.com' }), { deploying: true }))
      .toThrow(/-c ocppDomainName: settings are read only from infra\/env\/<name>.json/);
    expect(() => buildApp(appWith({ environment: 'prod' }), { deploying: true })).toThrow(/-c environment/);
  });

  test('the local file synthesizes for the stand-in and the tests, but cannot be deployed', () => {
    const local = buildApp(appWith({ env: 'local' }), { deploying: false });
    expect(local.main.stackName).toBe('csms-local');
    expect(local.edge).toBeUndefined();
    expect(() => buildApp(appWith({ env: 'local' }), { deploying: true })).toThrow(/local.json names no account and region, so it cannot be deployed/);
  });

  test('the example file is valid and sets every setting', () => {
    const { settings } = readSettingsFile('example');
    expect(Object.keys(settings).filter((k) => k !== '$comment').sort()).toEqual(Object.keys(SETTINGS).sort());
    const { config, main, edge } = buildApp(appWith({ env: 'example' }), { deploying: true });
    expect(main.stackName).toBe('csms-example');
    expect(main.account).toBe(ACCOUNT);
    expect(main.region).toBe('eu-west-1');
    expect(edge!.region).toBe('us-east-1');
    expect(edge!.stackName).toBe('csms-example-edge');
    expect(config.apiDomain!.domainName).toBe('api.example.com');
  });

  test('every file in infra/env is valid', () => {
    for (const file of fs.readdirSync(SETTINGS_DIR).filter((f) => f.endsWith('.json'))) {
      const { environment, settings, source } = readSettingsFile(file.replace(/\.json$/, ''));
      expect(() => configFromSettings(environment, settings, source)).not.toThrow();
    }
  });

  test('broken files are refused with the file\'s name in the message', () => {
    const dir = settingsDir({ 'bad.json': '{ "alarmEmail": ', 'list.json': '[]', 'typo.json': '{"alarmEmial": "a@b.co"}' });
    expect(() => readSettingsFile('bad', dir)).toThrow(/infra\/env\/bad.json: not valid JSON/);
    expect(() => readSettingsFile('list', dir)).toThrow(/infra\/env\/list.json: must hold one JSON object/);
    const typo = readSettingsFile('typo', dir);
    expect(() => configFromSettings(typo.environment, typo.settings, typo.source)).toThrow(/infra\/env\/typo.json: unknown setting "alarmEmial"/);
  });

  test('bin/csms.ts itself refuses a synth for deployment without an environment (exit 1, one clear line)', () => {
    let failure: any;
    try {
      execFileSync('npx', ['ts-node', '--transpile-only', 'bin/csms.ts'], {
        cwd: path.join(__dirname, '..'),
        env: { ...process.env, CSMS_SKIP_BUNDLING: '', CDK_CONTEXT_JSON: '{}', CDK_OUTDIR: fs.mkdtempSync(path.join(os.tmpdir(), 'csms-out-')) },
        stdio: 'pipe',
      });
    } catch (e) {
      failure = e;
    }
    expect(failure?.status).toBe(1);
    expect(String(failure.stderr)).toMatch(/^csms: no environment given: choose an environment with -c env=<name>/);
  }, 60_000);
});

describe('settings are checked at synth, with clear messages', () => {
  const check = (settings: Record<string, unknown>) => configFromSettings('prod', settings);

  test('account and region go together and are well formed', () => {
    expect(() => check({ account: ACCOUNT })).toThrow(/infra\/env\/prod.json: account and region go together/);
    expect(() => check({ account: 123456789012, region: 'eu-west-1' })).toThrow(/12-digit AWS account id \(a string\)/);
    expect(() => check({ account: ACCOUNT, region: 'Europe' })).toThrow(/region must be an AWS region name/);
  });

  test('the pile door certificate must be in us-east-1 (CloudFront), the app door\'s in the stack\'s region', () => {
    const base = { account: ACCOUNT, region: 'eu-west-1' };
    expect(() => check({ ...base, ocppDomainName: 'ocpp.example.com', ocppCertificateArn: cert('eu-west-1') }))
      .toThrow(/ocppCertificateArn must be in us-east-1 \(CloudFront reads certificates there\), got eu-west-1/);
    expect(() => check({ ...base, apiDomainName: 'api.example.com', apiCertificateArn: cert('us-east-1') }))
      .toThrow(/apiCertificateArn must be in eu-west-1 .*, got us-east-1/);
    expect(() => check({ ...base, apiDomainName: 'api.example.com', apiCertificateArn: cert('eu-west-1', '210987654321') }))
      .toThrow(/apiCertificateArn belongs to account 210987654321, not to this environment's account 123456789012/);
    expect(check({ ...base, apiDomainName: 'api.example.com', apiCertificateArn: cert('eu-west-1') }).apiDomain)
      .toEqual({ domainName: 'api.example.com', certificateArn: cert('eu-west-1') });
    // Without a region (the local file) the app door's certificate region cannot be checked.
    expect(() => check({ apiDomainName: 'api.example.com', apiCertificateArn: cert('us-east-1') })).not.toThrow();
  });

  test('Cognito domain prefixes: Cognito\'s characters, no reserved words, and a word on uniqueness', () => {
    expect(() => check({ cognitoDomainPrefix: 'acme-aws-login' })).toThrow(/reserved word "aws".*unique per region across all AWS accounts/);
    expect(() => check({ cognitoDomainPrefix: 'amazon-cognito' })).toThrow(/reserved word "amazon", "cognito"/);
    expect(() => check({ cognitoDomainPrefix: '-acme' })).toThrow(/not starting or ending with -/);
    expect(() => check({ cognitoDomainPrefix: 'a'.repeat(64) })).toThrow(/1-63 characters/);
    expect(check({ cognitoDomainPrefix: 'acme-charging' }).cognitoDomainPrefix).toBe('acme-charging');
  });

  test('throttles, tracing, deployment, backup, budget and fleet size', () => {
    expect(() => check({ pileDoorRateLimit: 0 })).toThrow(/pileDoorRateLimit must be a whole number in 1..10000/);
    expect(() => check({ appDoorBurstLimit: 'lots' })).toThrow(/appDoorBurstLimit/);
    expect(() => check({ pileDoorRateLimit: 5000, pileDoorBurstLimit: 100 })).toThrow(/below a tenth/);
    expect(() => check({ tracing: 'yes' })).toThrow(/tracing must be "true" or "false"/);
    expect(() => check({ deployment: 'blue-green' })).toThrow(/deployment must be "canary", "linear" or "all-at-once"/);
    expect(() => check({ backupRetentionDays: 0 })).toThrow(/backupRetentionDays/);
    expect(() => check({ budgetScope: 'account' })).toThrow(/budgetScope needs monthlyBudgetUsd/);
    expect(() => check({ monthlyBudgetUsd: 100, budgetScope: 'stack' })).toThrow(/budgetScope must be "environment" or "account"/);
    expect(() => check({ fleetSize: -1 })).toThrow(/fleetSize/);
    const defaults = check({});
    expect(defaults.pileDoorThrottle).toEqual({ rateLimit: 500, burstLimit: 1000 });
    expect(defaults.appDoorThrottle).toEqual({ rateLimit: 100, burstLimit: 200 });
    expect(defaults.tracing).toBe(true);
    expect(defaults.deployment).toBe('canary');
    expect(defaults.backupRetentionDays).toBeUndefined();
    expect(defaults.budget).toBeUndefined();
    expect(defaults.fleetSize).toBe(100);
  });
});

describe('settings reach the template', () => {
  test('door throttles', () => {
    const t: Template = synth({ pileDoorRateLimit: 2000, pileDoorBurstLimit: 4000, appDoorRateLimit: 50, appDoorBurstLimit: 80 });
    expect(resource(t, 'WebSocketStage/Resource').Properties.DefaultRouteSettings).toEqual(
      expect.objectContaining({ ThrottlingRateLimit: 2000, ThrottlingBurstLimit: 4000 }),
    );
    expect(resource(t, 'HttpStage/Resource').Properties.DefaultRouteSettings).toEqual(
      expect.objectContaining({ ThrottlingRateLimit: 50, ThrottlingBurstLimit: 80 }),
    );
  });

  test('X-Ray tracing on by default, off when set', () => {
    const off = synth({ tracing: false });
    expect(resource(off, 'MessageFunction/Resource').Properties.TracingConfig).toBeUndefined();
    const statements = JSON.stringify(off.findResources('AWS::IAM::Policy'));
    expect(statements).not.toContain('xray:PutTraceSegments');
  });
});
