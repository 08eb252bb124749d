import * as fs from 'fs';
import * as path from 'path';
import { CfnResource, Duration, Lazy, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import { CsmsConfig } from './config';
import { ignoreCfnLint, skipCheckov } from './suppressions';

/** The CloudFront function's code, unit-tested by test/web-rewrite.test.ts. */
export const WEB_REWRITE_FILE = path.join(__dirname, 'cloudfront', 'web-rewrite.js');
/** The built apps (`npm --prefix web run build`). */
export const WEB_DIST = path.join(__dirname, '..', '..', 'web', 'dist');
/** The headers both web doors send (this stack and the local stand-in). */
export const WEB_HEADERS_FILE = path.join(__dirname, '..', '..', 'web', 'security-headers.json');

export interface WebDoor {
  readonly bucket: s3.Bucket;
  readonly distribution: cloudfront.Distribution;
  /** `https://<host>`: the apps' origin (CORS, redirect URIs). */
  readonly origin: string;
  /** Where Cognito may send users back to after sign-in and sign-out. */
  readonly callbackUrls: string[];
  readonly logoutUrls: string[];
  /**
   * Names the origins the apps call (`connect-src` of the Content Security Policy): the API's
   * and the sign-in's. Call once, after the app door exists.
   */
  connectTo(sources: { api: string; auth: string }): void;
}

/** `scheme://host` of a URL or `{z}/{x}/{y}` template (`{s}` becomes a wildcard subdomain). */
export function originOf(url: string): string {
  const match = /^(https?):\/\/([^/?#]+)/.exec(url);
  if (!match) throw new Error(`${JSON.stringify(url)} is not an http(s) URL`);
  return `${match[1]}://${match[2].replace('{s}', '*')}`;
}

/**
 * The web door: a private S3 bucket behind CloudFront (origin access control; the bucket is
 * never public). The driver app is at `/`, the operator console at `/console/`; a CloudFront
 * function maps their routes to their entry pages, and a response headers policy gives every
 * answer a strict Content Security Policy and the other security headers.
 */
export function addWebDoor(stack: Stack, config: CsmsConfig): WebDoor {
  const bucket = new s3.Bucket(stack, 'WebBucket', {
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    encryption: s3.BucketEncryption.S3_MANAGED,
    enforceSSL: true,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    versioned: true,
    // Old versions are only a way back from a bad deploy.
    lifecycleRules: [{ noncurrentVersionExpiration: Duration.days(30), abortIncompleteMultipartUploadAfter: Duration.days(1) }],
    // Only the build of the apps, made again from the repository: it goes with the stack
    // whatever removalPolicy says for data (lib/data-protection.ts).
    removalPolicy: RemovalPolicy.DESTROY,
    autoDeleteObjects: true,
  });
  skipCheckov(bucket, {
    id: 'CKV_AWS_18',
    reason: 'The bucket holds only the public build of the web apps, read by CloudFront alone; access logs would need a second bucket and record nothing about users.',
  });

  const rewrite = new cloudfront.Function(stack, 'WebRewrite', {
    comment: 'Web apps: routes without a file extension are the app entry page',
    code: cloudfront.FunctionCode.fromFile({ filePath: WEB_REWRITE_FILE }),
    runtime: cloudfront.FunctionRuntime.JS_2_0,
    autoPublish: true,
  });

  const headers = JSON.parse(fs.readFileSync(WEB_HEADERS_FILE, 'utf8')) as {
    contentSecurityPolicy: string;
    referrerPolicy: string;
    permissionsPolicy: string;
  };
  // The API and Cognito exist after this door (their redirect URIs and CORS name it): the
  // policy is filled in when the template is written.
  let connect: { api: string; auth: string } | undefined;
  const csp = Lazy.string({
    produce: () => {
      if (!connect) throw new Error('the web door needs connectTo({ api, auth }) before synthesis');
      return headers.contentSecurityPolicy
        .replace('{api}', connect.api)
        .replace('{auth}', connect.auth)
        .replace('{tiles}', originOf(config.tileUrl));
    },
  });
  const responseHeaders = new cloudfront.ResponseHeadersPolicy(stack, 'WebSecurityHeaders', {
    comment: 'Web apps: strict CSP, HSTS, no framing, no sniffing',
    securityHeadersBehavior: {
      contentSecurityPolicy: { contentSecurityPolicy: csp, override: true },
      strictTransportSecurity: { accessControlMaxAge: Duration.days(365), includeSubdomains: true, override: true },
      contentTypeOptions: { override: true },
      frameOptions: { frameOption: cloudfront.HeadersFrameOption.DENY, override: true },
      referrerPolicy: { referrerPolicy: headers.referrerPolicy as cloudfront.HeadersReferrerPolicy, override: true },
    },
    customHeadersBehavior: { customHeaders: [{ header: 'Permissions-Policy', value: headers.permissionsPolicy, override: true }] },
  });

  const distribution = new cloudfront.Distribution(stack, 'WebDistribution', {
    comment: `csms-${config.environment}: driver app and operator console`,
    defaultRootObject: 'index.html',
    defaultBehavior: {
      origin: origins.S3BucketOrigin.withOriginAccessControl(bucket),
      viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
      allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD,
      // Honours the objects' Cache-Control: hashed assets for a year, the rest revalidated.
      cachePolicy: cloudfront.CachePolicy.CACHING_OPTIMIZED,
      responseHeadersPolicy: responseHeaders,
      functionAssociations: [{ function: rewrite, eventType: cloudfront.FunctionEventType.VIEWER_REQUEST }],
      compress: true,
    },
    httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
    priceClass: config.priceClass,
    enableIpv6: true,
    domainNames: config.webDomain ? [config.webDomain.domainName] : undefined,
    certificate: config.webDomain ? acm.Certificate.fromCertificateArn(stack, 'WebCertificate', config.webDomain.certificateArn) : undefined,
    minimumProtocolVersion: config.webDomain ? cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021 : undefined,
    webAclId: config.webAclArn,
  });
  skipCheckov(distribution, {
    id: 'CKV_AWS_86',
    reason: 'CloudFront standard logs would need an S3 bucket with ACLs; the apps are public static files, and what users do is in the HTTP API access log.',
  });
  skipCheckov(distribution, {
    id: 'CKV_AWS_310',
    reason: 'One origin, the S3 bucket in this region; a failover origin would need a replicated second bucket for static files that a redeploy restores.',
  });
  if (!config.webAclArn) {
    skipCheckov(
      distribution,
      {
        id: 'CKV_AWS_68',
        reason: 'WAF is opt-in (-c webAclArn=...): the door serves only static files; the API behind the apps checks every token and is throttled.',
      },
      {
        id: 'CKV2_AWS_47',
        reason: 'No WAF by default (see CKV_AWS_68); static files only, no Log4j or any server code behind this distribution.',
      },
    );
  }
  if (!config.webDomain) {
    skipCheckov(distribution, {
      id: 'CKV_AWS_174',
      reason:
        'Without a custom domain the distribution uses the default *.cloudfront.net certificate, whose minimum protocol ' +
        'version CloudFront fixes; with -c webDomainName/webCertificateArn it is TLSv1.2_2021.',
    });
  }

  const host = config.webDomain ? config.webDomain.domainName : distribution.distributionDomainName;
  const origin = `https://${host}`;
  return {
    bucket,
    distribution,
    origin,
    callbackUrls: [`${origin}/auth/callback`, `${origin}/console/auth/callback`],
    logoutUrls: [`${origin}/`, `${origin}/console/`],
    connectTo: (sources) => {
      connect = sources;
    },
  };
}

/** What the apps read at start (`/config.json`), with values known at deploy time. */
export interface WebSettings {
  readonly apiUrl: string;
  readonly ocppUrl: string;
  /** Cognito's hosted sign-in, `https://<prefix>.auth.<region>.amazoncognito.com`. */
  readonly signInUrl: string;
  readonly clientId: string;
}

/**
 * Uploads the built apps and their `config.json` (API URL and Cognito settings, resolved at
 * deploy time). A synth without bundling (tests, lint, the
 * local stand-in) needs no build: it uploads a placeholder page instead; a deploy needs
 * `web/dist` (`npm run deploy` builds it).
 */
export function deployWebApps(stack: Stack, door: WebDoor, config: CsmsConfig, settings: WebSettings): s3deploy.BucketDeployment {
  const built = fs.existsSync(path.join(WEB_DIST, 'index.html'));
  if (!built && stack.bundlingRequired) {
    throw new Error(`${WEB_DIST} has no build: run \`npm --prefix web ci && npm --prefix web run build\` first (infra's \`npm run deploy\` does)`);
  }
  const apps = stack.bundlingRequired
    ? s3deploy.Source.asset(WEB_DIST)
    : s3deploy.Source.data('index.html', '<!doctype html><title>csms</title><p>Synthesized without the web apps (CSMS_SKIP_BUNDLING).</p>');
  const deployment = new s3deploy.BucketDeployment(stack, 'WebDeployment', {
    destinationBucket: door.bucket,
    sources: [
      apps,
      s3deploy.Source.jsonData('config.json', {
        apiUrl: settings.apiUrl,
        ocppUrl: settings.ocppUrl,
        auth: {
          authorizeUrl: `${settings.signInUrl}/oauth2/authorize`,
          tokenUrl: `${settings.signInUrl}/oauth2/token`,
          logoutUrl: `${settings.signInUrl}/logout`,
          clientId: settings.clientId,
        },
        map: { tileUrl: config.tileUrl, attribution: config.tileAttribution, center: config.mapCenter },
      }),
    ],
    // Entry pages, config.json, the manifest and the service worker are revalidated (CloudFront
    // keeps them a second), so a deploy shows at once without an invalidation; Vite's hashed
    // assets never change (a second deployment below gives them a year).
    cacheControl: [s3deploy.CacheControl.noCache()],
    exclude: ['assets/*'],
    prune: false,
    memoryLimit: 512,
  });
  if (stack.bundlingRequired) {
    // Assets first, so the new entry pages never name a file that is not there yet.
    const assets = new s3deploy.BucketDeployment(stack, 'WebAssetsDeployment', {
      destinationBucket: door.bucket,
      destinationKeyPrefix: 'assets/',
      sources: [s3deploy.Source.asset(path.join(WEB_DIST, 'assets'))],
      cacheControl: [s3deploy.CacheControl.fromString('public, max-age=31536000, immutable')],
      // Old hashed files stay for pages still open on an older build.
      prune: false,
      memoryLimit: 512,
    });
    deployment.node.addDependency(assets);
  }
  return deployment;
}

/** The linters' findings on the CDK's own custom resource handlers (S3 deployment, auto-delete). */
export function annotateCdkHandlers(stack: Stack): void {
  for (const construct of stack.node.findAll()) {
    if (!CfnResource.isCfnResource(construct) || construct.cfnResourceType !== 'AWS::Lambda::Function') continue;
    if (!/Custom::CDKBucketDeployment|Custom::S3AutoDeleteObjects/.test(construct.node.path)) continue;
    skipCheckov(
      construct,
      { id: 'CKV_AWS_115', reason: 'The CDK-provided handler runs once per deploy; no concurrency to reserve.' },
      { id: 'CKV_AWS_116', reason: 'Invoked synchronously by CloudFormation, which reports a failure itself; a DLQ would hold nothing.' },
      { id: 'CKV_AWS_117', reason: 'Talks to S3 only, through its public endpoint; no VPC resource to reach.' },
      { id: 'CKV_AWS_173', reason: 'Its environment holds no secret (CDK-generated settings only).' },
    );
    ignoreCfnLint(construct, 'W3005', 'The CDK writes a DependsOn on the handler\'s role next to the GetAtt; harmless, and not ours to change.');
  }
}
