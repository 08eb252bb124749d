import { RemovalPolicy } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Node } from 'constructs';

/**
 * Everything an operator may set with `-c key=value` (or in cdk.json's `context`), read and
 * checked once. `-c` values arrive as strings; values from cdk.json or tests may be numbers,
 * booleans or arrays, and are accepted too.
 *
 * | key | default | what |
 * | --- | --- | --- |
 * | `environment` | `dev` | names the deployment: stack name `csms-<env>`, alarm and dashboard names, tags |
 * | `removalPolicy` | `retain` | `retain` or `destroy`: tables, user pool and log groups on stack deletion |
 * | `deletionProtection` | `true` with retain, `false` with destroy | DynamoDB and Cognito deletion protection |
 * | `heartbeatIntervalSeconds` | `300` | interval handed to piles in BootNotification (1..599) |
 * | `logRetentionDays` | `30` | CloudWatch Logs retention of function and access logs |
 * | `alarmEmail` | none | subscribe this address to the alarm topic |
 * | `corsOrigins` | none | comma-separated origins allowed to call the app API from a browser |
 * | `cognitoDomainPrefix` | `csms-<env>-<account id>` | hosted sign-in at `https://<prefix>.auth.<region>.amazoncognito.com` |
 * | `oauthCallbackUrls` | `http://localhost:5173/auth/callback` | comma-separated redirect URIs of the web app client |
 * | `oauthLogoutUrls` | `http://localhost:5173/` | comma-separated sign-out URIs |
 * | `ocppDomainName`, `ocppCertificateArn` | none | custom domain for the pile door; the ACM certificate must be in us-east-1 (CloudFront) |
 * | `apiDomainName`, `apiCertificateArn` | none | custom domain for the app API; the ACM certificate must be in the stack's region |
 * | `webAclArn` | none | an existing WAF web ACL (scope CLOUDFRONT) for the pile door |
 * | `priceClass` | `100` | CloudFront price class: `100`, `200` or `All` (edge locations piles connect through) |
 * | `apiGatewayCloudWatchRole` | `true` | set API Gateway's account-wide CloudWatch Logs role (needed once per account and region for WebSocket access logs) |
 * | `reservationMaxMinutes` | `30` | the longest reservation a driver may make (1..1440) |
 * | `reservationOnePerDriver` | `true` | at most one active reservation per driver |
 */
export interface CsmsConfig {
  readonly environment: string;
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
  readonly reservationMaxMinutes: number;
  readonly reservationOnePerDriver: boolean;
}

export interface CustomDomain {
  readonly domainName: string;
  readonly certificateArn: string;
}

export function configFromContext(node: Node): CsmsConfig {
  const get = (key: string): unknown => node.tryGetContext(key);
  const removalPolicy = removalPolicyFromContext(get('removalPolicy'));
  const environment = environmentFromContext(get('environment'));
  return {
    environment,
    removalPolicy,
    deletionProtection: booleanFromContext('deletionProtection', get('deletionProtection'), removalPolicy === RemovalPolicy.RETAIN),
    heartbeatIntervalSeconds: heartbeatFromContext(get('heartbeatIntervalSeconds')),
    logRetention: logRetentionFromContext(get('logRetentionDays')),
    alarmEmail: emailFromContext(get('alarmEmail')),
    corsOrigins: listFromContext('corsOrigins', get('corsOrigins'), []).map(checkOrigin),
    cognitoDomainPrefix: domainPrefixFromContext(get('cognitoDomainPrefix')),
    oauthCallbackUrls: listFromContext('oauthCallbackUrls', get('oauthCallbackUrls'), ['http://localhost:5173/auth/callback'])
      .map((url) => checkUrl('oauthCallbackUrls', url)),
    oauthLogoutUrls: listFromContext('oauthLogoutUrls', get('oauthLogoutUrls'), ['http://localhost:5173/'])
      .map((url) => checkUrl('oauthLogoutUrls', url)),
    ocppDomain: customDomainFromContext('ocpp', get('ocppDomainName'), get('ocppCertificateArn'), 'us-east-1'),
    apiDomain: customDomainFromContext('api', get('apiDomainName'), get('apiCertificateArn')),
    webAclArn: webAclFromContext(get('webAclArn')),
    priceClass: priceClassFromContext(get('priceClass')),
    apiGatewayCloudWatchRole: booleanFromContext('apiGatewayCloudWatchRole', get('apiGatewayCloudWatchRole'), true),
    reservationMaxMinutes: reservationMaxMinutesFromContext(get('reservationMaxMinutes')),
    reservationOnePerDriver: booleanFromContext('reservationOnePerDriver', get('reservationOnePerDriver'), true),
  };
}

/** The environment name alone, for bin/csms.ts (the stack name is chosen before the stack exists). */
export function environmentFromContext(value: unknown): string {
  const env = value === undefined ? 'dev' : String(value);
  // Short and DNS-safe: it goes into the stack name, alarm names, the dashboard name and the
  // default Cognito domain prefix.
  if (!/^[a-z][a-z0-9-]{0,15}$/.test(env)) {
    throw new Error(`context environment must be 1-16 characters of a-z 0-9 -, starting with a letter, got ${JSON.stringify(value)}`);
  }
  return env;
}

function removalPolicyFromContext(value: unknown): RemovalPolicy {
  switch (value ?? 'retain') {
    case 'retain':
      return RemovalPolicy.RETAIN;
    case 'destroy':
      return RemovalPolicy.DESTROY;
    default:
      throw new Error(`context removalPolicy must be "retain" or "destroy", got ${JSON.stringify(value)}`);
  }
}

function booleanFromContext(key: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  throw new Error(`context ${key} must be "true" or "false", got ${JSON.stringify(value)}`);
}

function heartbeatFromContext(value: unknown): number {
  const seconds = value === undefined ? 300 : Number(value);
  // API Gateway drops a WebSocket idle for 10 minutes, so the heartbeat must come sooner.
  if (!Number.isInteger(seconds) || seconds < 1 || seconds >= 600) {
    throw new Error(`context heartbeatIntervalSeconds must be an integer in 1..599, got ${JSON.stringify(value)}`);
  }
  return seconds;
}

function reservationMaxMinutesFromContext(value: unknown): number {
  const minutes = value === undefined ? 30 : Number(value);
  // A longer hold keeps a connector from every other driver for more than a day.
  if (!Number.isInteger(minutes) || minutes < 1 || minutes > 1440) {
    throw new Error(`context reservationMaxMinutes must be an integer in 1..1440, got ${JSON.stringify(value)}`);
  }
  return minutes;
}

function logRetentionFromContext(value: unknown): logs.RetentionDays {
  const days = value === undefined ? 30 : Number(value);
  const allowed = Object.values(logs.RetentionDays).filter((v): v is number => typeof v === 'number' && v > 0);
  if (!allowed.includes(days)) {
    throw new Error(`context logRetentionDays must be one of ${allowed.join(', ')}, got ${JSON.stringify(value)}`);
  }
  return days as logs.RetentionDays;
}

function listFromContext(key: string, value: unknown, fallback: string[]): string[] {
  if (value === undefined) return fallback;
  const items = Array.isArray(value) ? value.map(String) : String(value).split(',');
  const list = items.map((s) => s.trim()).filter((s) => s.length > 0);
  if (list.some((s) => /\s/.test(s))) {
    throw new Error(`context ${key} must be a comma-separated list without spaces inside items, got ${JSON.stringify(value)}`);
  }
  return list;
}

function checkOrigin(origin: string): string {
  // An exact origin: scheme, host, optional port; no path, no wildcard (name the app's origins).
  if (!/^https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?$/.test(origin)) {
    throw new Error(`context corsOrigins: ${JSON.stringify(origin)} is not an origin like https://app.example.com`);
  }
  return origin;
}

function checkUrl(key: string, url: string): string {
  // Cognito takes https URLs, and http only for localhost.
  if (!/^https:\/\/\S+$/.test(url) && !/^http:\/\/localhost(:\d{1,5})?(\/\S*)?$/.test(url)) {
    throw new Error(`context ${key}: ${JSON.stringify(url)} must be https (or http://localhost)`);
  }
  return url;
}

function emailFromContext(value: unknown): string | undefined {
  if (value === undefined || value === '') return undefined;
  const email = String(value);
  if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email)) {
    throw new Error(`context alarmEmail must be an email address, got ${JSON.stringify(value)}`);
  }
  return email;
}

function domainPrefixFromContext(value: unknown): string | undefined {
  if (value === undefined || value === '') return undefined;
  const prefix = String(value);
  // Cognito's rules for a prefix domain: lower-case letters, digits and hyphens, and none of the
  // reserved words.
  if (!/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/.test(prefix) || /aws|amazon|cognito/.test(prefix)) {
    throw new Error(
      `context cognitoDomainPrefix must be 1-63 characters of a-z 0-9 - without "aws", "amazon" or "cognito", got ${JSON.stringify(value)}`,
    );
  }
  return prefix;
}

function customDomainFromContext(
  which: 'ocpp' | 'api',
  domainName: unknown,
  certificateArn: unknown,
  certificateRegion?: string,
): CustomDomain | undefined {
  if (domainName === undefined && certificateArn === undefined) return undefined;
  if (domainName === undefined || certificateArn === undefined) {
    throw new Error(`context ${which}DomainName and ${which}CertificateArn go together: give both or neither`);
  }
  const name = String(domainName);
  const arn = String(certificateArn);
  if (!/^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/.test(name)) {
    throw new Error(`context ${which}DomainName must be a lower-case DNS name, got ${JSON.stringify(domainName)}`);
  }
  const match = /^arn:aws[a-z-]*:acm:([a-z0-9-]+):\d{12}:certificate\/[A-Za-z0-9-]+$/.exec(arn);
  if (!match) {
    throw new Error(`context ${which}CertificateArn must be an ACM certificate ARN, got ${JSON.stringify(certificateArn)}`);
  }
  if (certificateRegion && match[1] !== certificateRegion) {
    throw new Error(`context ${which}CertificateArn must be in ${certificateRegion} (CloudFront reads certificates there), got ${match[1]}`);
  }
  return { domainName: name, certificateArn: arn };
}

function webAclFromContext(value: unknown): string | undefined {
  if (value === undefined || value === '') return undefined;
  const arn = String(value);
  // CloudFront takes the web ACL's ARN (WAFv2, global scope, which lives in us-east-1).
  if (!/^arn:aws[a-z-]*:wafv2:us-east-1:\d{12}:global\/webacl\/\S+$/.test(arn)) {
    throw new Error(`context webAclArn must be a WAFv2 global (CLOUDFRONT scope) web ACL ARN, got ${JSON.stringify(value)}`);
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
      throw new Error(`context priceClass must be 100, 200 or All, got ${JSON.stringify(value)}`);
  }
}
