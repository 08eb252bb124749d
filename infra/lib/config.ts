import * as fs from 'fs';
import * as path from 'path';
import { RemovalPolicy } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as logs from 'aws-cdk-lib/aws-logs';

/** Where the settings files live: one per environment, `infra/env/<name>.json`. */
export const SETTINGS_DIR = path.join(__dirname, '..', 'env');

/**
 * Every key a settings file may hold, with what it does. A file names its environment by its own
 * name (`infra/env/prod.json` deploys the stack `csms-prod`); every key is optional. docs/deploy.md
 * documents each of these (test/docs.test.ts checks that they agree).
 */
export const SETTINGS = {
  account: 'the AWS account id the environment lives in; a deploy with credentials of another account fails',
  region: 'the region it lives in; required with account: the app API certificate must be there',
  removalPolicy: '"retain" (default) or "destroy": tables, user pool, log groups and backup vault on stack deletion',
  deletionProtection: 'DynamoDB and Cognito deletion protection (default false; turn on after the first deploy succeeded)',
  heartbeatIntervalSeconds: 'interval handed to piles in BootNotification, 1-599 (default 300)',
  logRetentionDays: 'CloudWatch Logs retention of function and access logs (default 30)',
  alarmEmail: 'subscribe this address to the alarm topics',
  corsOrigins: 'origins allowed to call the app API from a browser (default none)',
  cognitoDomainPrefix: 'hosted sign-in at https://<prefix>.auth.<region>.amazoncognito.com (default csms-<env>-<account id>)',
  oauthCallbackUrls: 'redirect URIs of the web app client (default http://localhost:5173/auth/callback)',
  oauthLogoutUrls: 'sign-out URIs of the web app client (default http://localhost:5173/)',
  ocppDomainName: 'custom domain of the pile door (with ocppCertificateArn, a us-east-1 certificate)',
  ocppCertificateArn: 'ACM certificate of ocppDomainName, in us-east-1 (CloudFront reads certificates there)',
  apiDomainName: 'custom domain of the app API (with apiCertificateArn, a certificate in the stack\'s region)',
  apiCertificateArn: 'ACM certificate of apiDomainName, in the stack\'s region',
  webAclArn: 'an existing WAF web ACL (scope CLOUDFRONT) for the pile door',
  priceClass: 'CloudFront price class: "100" (default), "200" or "All"',
  apiGatewayCloudWatchRole: 'set API Gateway\'s account-wide CloudWatch Logs role (default true; false where the account has one)',
  pileDoorRateLimit: 'WebSocket stage: steady messages per second across the fleet (default 500)',
  pileDoorBurstLimit: 'WebSocket stage: burst (default 1000)',
  appDoorRateLimit: 'HTTP API stage: steady requests per second (default 100)',
  appDoorBurstLimit: 'HTTP API stage: burst (default 200)',
  tracing: 'X-Ray active tracing of every function (default true)',
  deployment: 'how a new function version takes traffic: "canary" (default: 10 % for 5 minutes), "linear" (10 % a minute) or "all-at-once"',
  backupRetentionDays: 'an AWS Backup plan: a daily backup of every table, kept this many days (default none)',
  monthlyBudgetUsd: 'an AWS Budgets alarm at 80 % (actual) and 100 % (forecast) of this monthly cost (default none)',
  budgetScope: '"environment" (default: costs tagged Environment=<env>; activate the tag for cost allocation) or "account"',
  fleetSize: 'how many piles you expect; sets the thresholds of the fleet alarms (default 100)',
  subjectRequestsPerMinute: 'app API requests one user may make a minute, then 429 (default 600, a tenth of the HTTP stage\'s 100 a second)',
} as const;

export type SettingKey = keyof typeof SETTINGS;
export type DeploymentStrategy = 'canary' | 'linear' | 'all-at-once';

/** Everything the stack is configured by, read and checked once from a settings file. */
export interface CsmsConfig {
  readonly environment: string;
  readonly account?: string;
  readonly region?: string;
  readonly removalPolicy: RemovalPolicy;
  readonly deletionProtection: boolean;
  readonly heartbeatIntervalSeconds: number;
  readonly logRetention: logs.RetentionDays;
  readonly alarmEmail?: string;
  readonly corsOrigins: string[];
  readonly cognitoDomainPrefix?: string;
  readonly oauthCallbackUrls: string[];
  readonly oauthLogoutUrls: string[];
  readonly ocppDomain?: CustomDomain;
  readonly apiDomain?: CustomDomain;
  readonly webAclArn?: string;
  readonly priceClass: cloudfront.PriceClass;
  readonly apiGatewayCloudWatchRole: boolean;
  readonly pileDoorThrottle: Throttle;
  readonly appDoorThrottle: Throttle;
  readonly tracing: boolean;
  readonly deployment: DeploymentStrategy;
  readonly backupRetentionDays?: number;
  readonly budget?: Budget;
  readonly fleetSize: number;
  readonly subjectRequestsPerMinute: number;
}

export interface CustomDomain {
  readonly domainName: string;
  readonly certificateArn: string;
}

export interface Throttle {
  readonly rateLimit: number;
  readonly burstLimit: number;
}

export interface Budget {
  readonly monthlyUsd: number;
  readonly scope: 'environment' | 'account';
}

/** A settings file that cannot be used, with the file's name in the message. */
export class SettingsError extends Error {}

/**
 * Checks an environment's settings and turns them into the stack's configuration. `environment`
 * is the file's name; `source` names the file in messages.
 */
export function configFromSettings(environment: string, settings: Record<string, unknown>, source = `infra/env/${environment}.json`): CsmsConfig {
  const fail = (message: string): never => {
    throw new SettingsError(`${source}: ${message}`);
  };
  if (settings === null || typeof settings !== 'object' || Array.isArray(settings)) {
    fail('must hold one JSON object of settings');
  }
  const unknown = Object.keys(settings).filter((key) => !(key in SETTINGS) && key !== '$comment');
  if (unknown.length) {
    fail(`unknown setting ${unknown.map((k) => JSON.stringify(k)).join(', ')} (known: ${Object.keys(SETTINGS).join(', ')})`);
  }
  const get = (key: SettingKey): unknown => settings[key];
  try {
    const env = environmentName(environment);
    const { account, region } = accountAndRegion(get('account'), get('region'));
    const removalPolicy = removalPolicyFromContext(get('removalPolicy'));
    return {
      environment: env,
      account,
      region,
      removalPolicy,
      deletionProtection: booleanFromContext('deletionProtection', get('deletionProtection'), false),
      heartbeatIntervalSeconds: heartbeatFromContext(get('heartbeatIntervalSeconds')),
      logRetention: logRetentionFromContext(get('logRetentionDays')),
      alarmEmail: emailFromContext(get('alarmEmail')),
      corsOrigins: listFromContext('corsOrigins', get('corsOrigins'), []).map(checkOrigin),
      cognitoDomainPrefix: domainPrefixFromContext(get('cognitoDomainPrefix')),
      oauthCallbackUrls: listFromContext('oauthCallbackUrls', get('oauthCallbackUrls'), ['http://localhost:5173/auth/callback'])
        .map((url) => checkUrl('oauthCallbackUrls', url)),
      oauthLogoutUrls: listFromContext('oauthLogoutUrls', get('oauthLogoutUrls'), ['http://localhost:5173/'])
        .map((url) => checkUrl('oauthLogoutUrls', url)),
      ocppDomain: customDomainFromContext('ocpp', get('ocppDomainName'), get('ocppCertificateArn'), 'us-east-1', account),
      apiDomain: customDomainFromContext('api', get('apiDomainName'), get('apiCertificateArn'), region, account),
      webAclArn: webAclFromContext(get('webAclArn')),
      priceClass: priceClassFromContext(get('priceClass')),
      apiGatewayCloudWatchRole: booleanFromContext('apiGatewayCloudWatchRole', get('apiGatewayCloudWatchRole'), true),
      pileDoorThrottle: throttle('pileDoor', get('pileDoorRateLimit'), get('pileDoorBurstLimit'), { rateLimit: 500, burstLimit: 1000 }),
      appDoorThrottle: throttle('appDoor', get('appDoorRateLimit'), get('appDoorBurstLimit'), { rateLimit: 100, burstLimit: 200 }),
      tracing: booleanFromContext('tracing', get('tracing'), true),
      deployment: deploymentFromSettings(get('deployment')),
      backupRetentionDays: optionalWholeNumber('backupRetentionDays', get('backupRetentionDays'), 1, 36500),
      budget: budgetFromSettings(get('monthlyBudgetUsd'), get('budgetScope')),
      fleetSize: optionalWholeNumber('fleetSize', get('fleetSize'), 1, 10_000_000) ?? 100,
      subjectRequestsPerMinute: optionalWholeNumber('subjectRequestsPerMinute', get('subjectRequestsPerMinute'), 1, 1_000_000) ?? 600,
    };
  } catch (e) {
    if (e instanceof SettingsError) throw e;
    return fail((e as Error).message);
  }
}

/**
 * Reads `infra/env/<name>.json`. Refuses a missing name or file with the list of files there, so
 * a deploy never falls back to defaults.
 */
export function readSettingsFile(name: unknown, dir = SETTINGS_DIR): { environment: string; settings: Record<string, unknown>; source: string } {
  const available = fs.existsSync(dir)
    ? fs.readdirSync(dir).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -'.json'.length)).sort()
    : [];
  const usage = `choose an environment with -c env=<name>, which reads infra/env/<name>.json (there: ${available.join(', ') || 'none'})`;
  if (name === undefined || name === '') {
    throw new SettingsError(`no environment given: ${usage}`);
  }
  const environment = String(name);
  if (!/^[a-z][a-z0-9-]{0,15}$/.test(environment)) {
    throw new SettingsError(`environment ${JSON.stringify(name)} must be 1-16 characters of a-z 0-9 -, starting with a letter; ${usage}`);
  }
  const file = path.join(dir, `${environment}.json`);
  const source = `infra/env/${environment}.json`;
  if (!fs.existsSync(file)) {
    throw new SettingsError(`${source} does not exist: ${usage}`);
  }
  let settings: unknown;
  try {
    settings = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new SettingsError(`${source}: not valid JSON: ${(e as Error).message}`);
  }
  if (settings === null || typeof settings !== 'object' || Array.isArray(settings)) {
    throw new SettingsError(`${source}: must hold one JSON object of settings`);
  }
  return { environment, settings: settings as Record<string, unknown>, source };
}

function environmentName(value: string): string {
  // Short and DNS-safe: it goes into the stack name, alarm names, the dashboard name and the
  // default Cognito domain prefix.
  if (!/^[a-z][a-z0-9-]{0,15}$/.test(value)) {
    throw new Error(`the environment name must be 1-16 characters of a-z 0-9 -, starting with a letter, got ${JSON.stringify(value)}`);
  }
  return value;
}

function accountAndRegion(account: unknown, region: unknown): { account?: string; region?: string } {
  if (account === undefined && region === undefined) return {};
  if (account === undefined || region === undefined) {
    throw new Error('account and region go together: give both or neither');
  }
  if (typeof account !== 'string' || !/^\d{12}$/.test(account)) {
    throw new Error(`account must be a 12-digit AWS account id (a string), got ${JSON.stringify(account)}`);
  }
  if (typeof region !== 'string' || !/^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/.test(region)) {
    throw new Error(`region must be an AWS region name like eu-west-1, got ${JSON.stringify(region)}`);
  }
  return { account, region };
}

function throttle(door: string, rate: unknown, burst: unknown, fallback: Throttle): Throttle {
  const rateLimit = optionalWholeNumber(`${door}RateLimit`, rate, 1, 10_000) ?? fallback.rateLimit;
  const burstLimit = optionalWholeNumber(`${door}BurstLimit`, burst, 1, 5_000) ?? fallback.burstLimit;
  if (burstLimit < rateLimit / 10) {
    throw new Error(`${door}BurstLimit (${burstLimit}) is below a tenth of ${door}RateLimit (${rateLimit}): API Gateway would refuse most of a second's requests`);
  }
  return { rateLimit, burstLimit };
}

function optionalWholeNumber(key: string, value: unknown, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (typeof value === 'boolean' || value === '' || !Number.isInteger(n) || n < min || n > max) {
    throw new Error(`${key} must be a whole number in ${min}..${max}, got ${JSON.stringify(value)}`);
  }
  return n;
}

function deploymentFromSettings(value: unknown): DeploymentStrategy {
  const strategy = value ?? 'canary';
  if (strategy !== 'canary' && strategy !== 'linear' && strategy !== 'all-at-once') {
    throw new Error(`deployment must be "canary", "linear" or "all-at-once", got ${JSON.stringify(value)}`);
  }
  return strategy;
}

function budgetFromSettings(amount: unknown, scope: unknown): Budget | undefined {
  if (amount === undefined) {
    if (scope !== undefined) throw new Error('budgetScope needs monthlyBudgetUsd');
    return undefined;
  }
  const monthlyUsd = optionalWholeNumber('monthlyBudgetUsd', amount, 1, 10_000_000)!;
  const s = scope ?? 'environment';
  if (s !== 'environment' && s !== 'account') {
    throw new Error(`budgetScope must be "environment" or "account", got ${JSON.stringify(scope)}`);
  }
  return { monthlyUsd, scope: s };
}

function removalPolicyFromContext(value: unknown): RemovalPolicy {
  switch (value ?? 'retain') {
    case 'retain':
      // Kept on stack deletion and replacement, but removed when its own creation is rolled
      // back, so a failed first deploy leaves nothing behind.
      return RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE;
    case 'destroy':
      return RemovalPolicy.DESTROY;
    default:
      throw new Error(`removalPolicy must be "retain" or "destroy", got ${JSON.stringify(value)}`);
  }
}

function booleanFromContext(key: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  throw new Error(`${key} must be "true" or "false", got ${JSON.stringify(value)}`);
}

function heartbeatFromContext(value: unknown): number {
  const seconds = value === undefined ? 300 : Number(value);
  // API Gateway drops a WebSocket idle for 10 minutes, so the heartbeat must come sooner.
  if (!Number.isInteger(seconds) || seconds < 1 || seconds >= 600) {
    throw new Error(`heartbeatIntervalSeconds must be an integer in 1..599, got ${JSON.stringify(value)}`);
  }
  return seconds;
}

function logRetentionFromContext(value: unknown): logs.RetentionDays {
  const days = value === undefined ? 30 : Number(value);
  const allowed = Object.values(logs.RetentionDays).filter((v): v is number => typeof v === 'number' && v > 0);
  if (!allowed.includes(days)) {
    throw new Error(`logRetentionDays must be one of ${allowed.join(', ')}, got ${JSON.stringify(value)}`);
  }
  return days as logs.RetentionDays;
}

function listFromContext(key: string, value: unknown, fallback: string[]): string[] {
  if (value === undefined) return fallback;
  const items = Array.isArray(value) ? value.map(String) : String(value).split(',');
  const list = items.map((s) => s.trim()).filter((s) => s.length > 0);
  if (list.some((s) => /\s/.test(s))) {
    throw new Error(`${key} must be a comma-separated list without spaces inside items, got ${JSON.stringify(value)}`);
  }
  return list;
}

function checkOrigin(origin: string): string {
  // An exact origin: scheme, host, optional port; no path, no wildcard (name the app's origins).
  if (!/^https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?$/.test(origin)) {
    throw new Error(`corsOrigins: ${JSON.stringify(origin)} is not an origin like https://app.example.com`);
  }
  // A page served over plain http can be altered on the way and then call the API with the
  // user's token: http only for a web app on the developer's own machine.
  if (origin.startsWith('http://') && !/^http:\/\/(localhost|127\.0\.0\.1)(:\d{1,5})?$/.test(origin)) {
    throw new Error(
      `corsOrigins: ${JSON.stringify(origin)} must be https (http only for localhost or 127.0.0.1 in local development)`,
    );
  }
  return origin;
}

function checkUrl(key: string, url: string): string {
  // Cognito takes https URLs, and http only for localhost.
  if (!/^https:\/\/\S+$/.test(url) && !/^http:\/\/localhost(:\d{1,5})?(\/\S*)?$/.test(url)) {
    throw new Error(`${key}: ${JSON.stringify(url)} must be https (or http://localhost)`);
  }
  return url;
}

function emailFromContext(value: unknown): string | undefined {
  if (value === undefined || value === '') return undefined;
  const email = String(value);
  if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email)) {
    throw new Error(`alarmEmail must be an email address, got ${JSON.stringify(value)}`);
  }
  return email;
}

function domainPrefixFromContext(value: unknown): string | undefined {
  if (value === undefined || value === '') return undefined;
  const prefix = String(value);
  // Cognito's rules for a prefix domain: lower-case letters, digits and hyphens, not starting or
  // ending with a hyphen, and none of the reserved words. Cognito checks one more thing only at
  // deploy time: the prefix must be free in the region across all AWS accounts.
  if (!/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/.test(prefix)) {
    throw new Error(
      `cognitoDomainPrefix must be 1-63 characters of a-z 0-9 -, not starting or ending with -, got ${JSON.stringify(value)}`,
    );
  }
  const reserved = ['aws', 'amazon', 'cognito'].filter((word) => prefix.includes(word));
  if (reserved.length) {
    throw new Error(
      `cognitoDomainPrefix may not contain the reserved word ${reserved.map((w) => `"${w}"`).join(', ')}, got ${JSON.stringify(value)} ` +
        '(prefixes are also unique per region across all AWS accounts: choose one that names you, e.g. acme-charging)',
    );
  }
  return prefix;
}

function customDomainFromContext(
  which: 'ocpp' | 'api',
  domainName: unknown,
  certificateArn: unknown,
  certificateRegion: string | undefined,
  account: string | undefined,
): CustomDomain | undefined {
  if (domainName === undefined && certificateArn === undefined) return undefined;
  if (domainName === undefined || certificateArn === undefined) {
    throw new Error(`${which}DomainName and ${which}CertificateArn go together: give both or neither`);
  }
  const name = String(domainName);
  const arn = String(certificateArn);
  if (!/^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/.test(name)) {
    throw new Error(`${which}DomainName must be a lower-case DNS name, got ${JSON.stringify(domainName)}`);
  }
  const match = /^arn:aws[a-z-]*:acm:([a-z0-9-]+):(\d{12}):certificate\/[A-Za-z0-9-]+$/.exec(arn);
  if (!match) {
    throw new Error(`${which}CertificateArn must be an ACM certificate ARN, got ${JSON.stringify(certificateArn)}`);
  }
  if (certificateRegion && match[1] !== certificateRegion) {
    const why = which === 'ocpp' ? 'CloudFront reads certificates there' : 'a regional API Gateway domain reads its certificate from its own region';
    throw new Error(`${which}CertificateArn must be in ${certificateRegion} (${why}), got ${match[1]}`);
  }
  if (account && match[2] !== account) {
    throw new Error(`${which}CertificateArn belongs to account ${match[2]}, not to this environment's account ${account}`);
  }
  return { domainName: name, certificateArn: arn };
}

function webAclFromContext(value: unknown): string | undefined {
  if (value === undefined || value === '') return undefined;
  const arn = String(value);
  // CloudFront takes the web ACL's ARN (WAFv2, global scope, which lives in us-east-1).
  if (!/^arn:aws[a-z-]*:wafv2:us-east-1:\d{12}:global\/webacl\/\S+$/.test(arn)) {
    throw new Error(`webAclArn must be a WAFv2 global (CLOUDFRONT scope) web ACL ARN, got ${JSON.stringify(value)}`);
  }
  return arn;
}

function priceClassFromContext(value: unknown): cloudfront.PriceClass {
  switch (String(value ?? '100')) {
    case '100':
      return cloudfront.PriceClass.PRICE_CLASS_100;
    case '200':
      return cloudfront.PriceClass.PRICE_CLASS_200;
    case 'All':
      return cloudfront.PriceClass.PRICE_CLASS_ALL;
    default:
      throw new Error(`priceClass must be 100, 200 or All, got ${JSON.stringify(value)}`);
  }
}
