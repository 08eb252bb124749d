import * as fs from 'fs';
import * as vm from 'vm';
import { Template } from 'aws-cdk-lib/assertions';
import { WEB_HEADERS_FILE, WEB_REWRITE_FILE } from '../lib/web-door';
import { logicalId, resource, resourcesOfType, synth } from './template';

const template: Template = synth();
const id = (path: string) => logicalId(template, path);
const distribution = (t: Template = template) => resource(t, 'WebDistribution/Resource').Properties.DistributionConfig;

// The CloudFront Function as CloudFront runs it: a script with a top-level `handler`.
const sandbox: Record<string, unknown> = {};
vm.runInNewContext(fs.readFileSync(WEB_REWRITE_FILE, 'utf8'), sandbox, { filename: WEB_REWRITE_FILE });
const rewrite = (uri: string) => (sandbox.handler as (e: unknown) => { uri: string })({ request: { method: 'GET', uri, querystring: {}, headers: {} } }).uri;

describe('web door: the apps on S3 behind CloudFront', () => {
  test('routes are entry pages, files are files (as the local web door does)', () => {
    // The same cases as localstack/standin/src/web.rs `paths_without_an_extension_are_the_apps_entry_pages`.
    const cases: Record<string, string> = {
      '/': '/index.html',
      '/stations/CP-1': '/index.html',
      '/auth/callback': '/index.html',
      '/console': '/console/index.html',
      '/console/': '/console/index.html',
      '/console/stations/CP-1': '/console/index.html',
      '/consoles': '/index.html',
      '/assets/index-abc123.js': '/assets/index-abc123.js',
      '/manifest.webmanifest': '/manifest.webmanifest',
    };
    for (const [uri, expected] of Object.entries(cases)) expect([uri, rewrite(uri)]).toEqual([uri, expected]);
  });

  test('the bucket is private: public access blocked, TLS only, read by CloudFront through origin access control', () => {
    const bucket = resource(template, 'WebBucket/Resource').Properties;
    expect(bucket.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true,
    });
    expect(bucket.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm).toBe('AES256');
    expect(bucket.WebsiteConfiguration).toBeUndefined();
    const statements = resource(template, 'WebBucket/Policy/Resource').Properties.PolicyDocument.Statement as any[];
    expect(statements).toContainEqual(expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }));
    const allowed = statements.filter((s) => s.Effect === 'Allow');
    // Only CloudFront reads objects; the one other grant is CDK's auto-delete handler (the bucket
    // holds a build and goes with the stack), which may list and delete but never get.
    const reads = allowed.filter((s) => [s.Action].flat().some((a: string) => a.startsWith('s3:Get') && a !== 's3:GetBucket*'));
    expect(reads).toHaveLength(1);
    expect(allowed.filter((s) => !reads.includes(s))).toEqual([
      expect.objectContaining({ Principal: { AWS: { 'Fn::GetAtt': [expect.stringMatching(/^CustomS3AutoDeleteObjects/), 'Arn'] } } }),
    ]);
    expect(reads[0].Principal).toEqual({ Service: 'cloudfront.amazonaws.com' });
    expect(reads[0].Action).toBe('s3:GetObject');
    expect(JSON.stringify(reads[0].Condition)).toContain(id('WebDistribution/Resource'));
    const oac = Object.values(resourcesOfType(template, 'AWS::CloudFront::OriginAccessControl'));
    expect(oac).toHaveLength(1);
    expect(oac[0].Properties.OriginAccessControlConfig).toEqual(expect.objectContaining({ OriginAccessControlOriginType: 's3', SigningBehavior: 'always' }));
    const [origin] = distribution().Origins;
    expect(origin.OriginAccessControlId).toEqual({ 'Fn::GetAtt': [expect.any(String), 'Id'] });
    expect(origin.S3OriginConfig.OriginAccessIdentity).toBe('');
  });

  test('HTTPS, the rewrite on viewer requests, security headers on every answer', () => {
    const behavior = distribution().DefaultCacheBehavior;
    expect(behavior.ViewerProtocolPolicy).toBe('redirect-to-https');
    expect(behavior.AllowedMethods).toEqual(['GET', 'HEAD']);
    expect(behavior.FunctionAssociations).toEqual([
      { EventType: 'viewer-request', FunctionARN: { 'Fn::GetAtt': [id('WebRewrite/Resource'), 'FunctionARN'] } },
    ]);
    expect(behavior.ResponseHeadersPolicyId).toEqual({ Ref: id('WebSecurityHeaders/Resource') });
    expect(distribution().DefaultRootObject).toBe('index.html');
    const fn = resource(template, 'WebRewrite/Resource').Properties;
    expect(fn.FunctionCode).toBe(fs.readFileSync(WEB_REWRITE_FILE, 'utf8'));
    expect(fn.FunctionConfig.Runtime).toBe('cloudfront-js-2.0');
  });

  test('a strict Content Security Policy: own scripts and styles only, the API, Cognito and the tiles to talk to', () => {
    const config = resource(template, 'WebSecurityHeaders/Resource').Properties.ResponseHeadersPolicyConfig.SecurityHeadersConfig;
    const csp = JSON.stringify(config.ContentSecurityPolicy.ContentSecurityPolicy);
    expect(csp).toContain("script-src 'self';");
    expect(csp).toContain("style-src 'self';");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain('img-src \'self\' data: https://tile.openstreetmap.org;');
    expect(csp).toContain('connect-src \'self\' https://*.execute-api.');
    expect(csp).toContain(id('UserPool/HostedSignInDomain/Resource'));
    expect(config.StrictTransportSecurity.AccessControlMaxAgeSec).toBeGreaterThanOrEqual(31536000);
    expect(config.FrameOptions.FrameOption).toBe('DENY');
    expect(config.ContentTypeOptions.Override).toBe(true);
    // One policy for both doors: the local stand-in reads the same file.
    const file = JSON.parse(fs.readFileSync(WEB_HEADERS_FILE, 'utf8'));
    expect(file.contentSecurityPolicy).toContain('{api}');
    // With the API on its own domain, exactly that origin; a tile provider of the operator's choice.
    const arn = 'arn:aws:acm:eu-west-1:123456789012:certificate/0a1b2c3d-0000-4000-8000-000000000002';
    const t = synth({ apiDomainName: 'api.example.com', apiCertificateArn: arn, tileUrl: 'https://{s}.tiles.example.org/{z}/{x}/{y}.png' });
    const custom = JSON.stringify(resource(t, 'WebSecurityHeaders/Resource').Properties.ResponseHeadersPolicyConfig.SecurityHeadersConfig);
    expect(custom).toContain("connect-src 'self' https://api.example.com https://");
    expect(custom).toContain("img-src 'self' data: https://*.tiles.example.org;");
    expect(() => synth({ tileUrl: 'http://tiles.example.org/{z}/{x}/{y}.png' })).toThrow(/tileUrl/);
    expect(() => synth({ tileUrl: 'https://tiles.example.org/tile.png' })).toThrow(/tileUrl/);
  });

  test('config.json tells the apps the API, the pile door, Cognito\'s hosted sign-in and the map, at deploy time', () => {
    const deployments = Object.values(resourcesOfType(template, 'Custom::CDKBucketDeployment'));
    expect(deployments).toHaveLength(1);
    const d = deployments[0].Properties;
    expect(d.DestinationBucketName).toEqual({ Ref: id('WebBucket/Resource') });
    expect(d.Prune).toBe(false);
    expect(d.SystemMetadata).toEqual({ 'cache-control': 'no-cache' });
    const markers = JSON.stringify(d.SourceMarkers);
    for (const name of ['HttpApi/Resource', 'UserPool/WebAppClient/Resource', 'UserPool/HostedSignInDomain/Resource', 'OcppDistribution/Resource']) {
      expect(markers).toContain(id(name));
    }
    expect(d.SourceObjectKeys).toHaveLength(2);
    expect(markers).not.toContain('DistributionId');
  });

  test('Cognito sends users back to the apps; the API lets the apps\' origin call it', () => {
    const web = { 'Fn::Join': ['', ['https://', { 'Fn::GetAtt': [id('WebDistribution/Resource'), 'DomainName'] }, '/auth/callback']] };
    expect(resource(template, 'UserPool/WebAppClient/Resource').Properties.CallbackURLs).toContainEqual(web);
    template.hasOutput('WebUrl', {});
  });

  test('a custom domain with its us-east-1 certificate; TLS 1.2 floor then', () => {
    const arn = 'arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-0000-4000-8000-000000000009';
    const t = synth({ webDomainName: 'charge.example.com', webCertificateArn: arn });
    expect(distribution(t).Aliases).toEqual(['charge.example.com']);
    expect(distribution(t).ViewerCertificate).toEqual(expect.objectContaining({ AcmCertificateArn: arn, MinimumProtocolVersion: 'TLSv1.2_2021' }));
    expect(resource(t, 'UserPool/WebAppClient/Resource').Properties.CallbackURLs).toContain('https://charge.example.com/auth/callback');
    t.hasOutput('WebUrl', { Value: 'https://charge.example.com/' });
    t.hasOutput('WebDomainTarget', {});
    expect(() => synth({ webDomainName: 'charge.example.com', webCertificateArn: arn.replace('us-east-1', 'eu-west-1') })).toThrow(/webCertificateArn/);
  });

  test('a build, not data: emptied and deleted with the stack whatever removalPolicy says', () => {
    expect(resource(template, 'WebBucket/Resource').DeletionPolicy).toBe('Delete');
    template.resourceCountIs('Custom::S3AutoDeleteObjects', 1);
  });
});
