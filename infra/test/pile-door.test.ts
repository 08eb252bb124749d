import * as fs from 'fs';
import { Template } from 'aws-cdk-lib/assertions';
import { OCPP_PATH_REWRITE_FILE } from '../lib/pile-door';
import { logicalId, resource, resourcesOfType, synth } from './template';

const template: Template = synth();
const id = (path: string) => logicalId(template, path);
const distribution = () => resource(template, 'OcppDistribution/Resource').Properties.DistributionConfig;

// CloudFront's managed policies (ids from the CloudFront developer guide).
const CACHING_DISABLED = '4135ea2d-6df8-44a3-9df3-4b5a84be39ad';
const ALL_VIEWER_EXCEPT_HOST_HEADER = 'b689b0a8-53d0-40ab-baf2-68738e2966ac';

describe('pile door: CloudFront in front of the WebSocket stage', () => {
  test('its own distribution and function (the web door has the others)', () => {
    template.resourceCountIs('AWS::CloudFront::Distribution', 2);
    template.resourceCountIs('AWS::CloudFront::Function', 2);
    expect(resource(template, 'OcppDistribution/Resource').Properties.DistributionConfig.DefaultCacheBehavior.FunctionAssociations).toEqual([
      { EventType: 'viewer-request', FunctionARN: { 'Fn::GetAtt': [logicalId(template, 'OcppPathRewrite/Resource'), 'FunctionARN'] } },
    ]);
  });

  test('the CloudFront Function is the tested file, JS 2.0, published', () => {
    const fn = resource(template, 'OcppPathRewrite/Resource').Properties;
    expect(fn.FunctionCode).toBe(fs.readFileSync(OCPP_PATH_REWRITE_FILE, 'utf8'));
    expect(fn.FunctionConfig.Runtime).toBe('cloudfront-js-2.0');
    expect(fn.AutoPublish).toBe(true);
  });

  test('the origin is the WebSocket API over TLS 1.2, without an origin path (the stage is /ocpp)', () => {
    const [origin] = distribution().Origins;
    expect(distribution().Origins).toHaveLength(1);
    expect(origin.DomainName).toEqual({
      'Fn::Join': ['', [{ Ref: id('WebSocketApi/Resource') }, '.execute-api.', { Ref: 'AWS::Region' }, '.', { Ref: 'AWS::URLSuffix' }]],
    });
    expect(origin.OriginPath).toBeUndefined();
    expect(origin.CustomOriginConfig).toEqual({ OriginProtocolPolicy: 'https-only', OriginSSLProtocols: ['TLSv1.2'] });
  });

  test('default behaviour: the rewrite on viewer requests, nothing cached, handshake headers forwarded', () => {
    const behavior = distribution().DefaultCacheBehavior;
    expect(behavior.FunctionAssociations).toEqual([
      { EventType: 'viewer-request', FunctionARN: { 'Fn::GetAtt': [id('OcppPathRewrite/Resource'), 'FunctionARN'] } },
    ]);
    expect(behavior.CachePolicyId).toBe(CACHING_DISABLED);
    // All viewer headers except Host: Sec-WebSocket-* and Authorization reach $connect, and
    // API Gateway sees its own host name. Query strings too (stationId).
    expect(behavior.OriginRequestPolicyId).toBe(ALL_VIEWER_EXCEPT_HOST_HEADER);
    expect(behavior.ViewerProtocolPolicy).toBe('https-only');
    expect(behavior.AllowedMethods).toEqual(['GET', 'HEAD']);
    expect(behavior.Compress).toBe(false);
    expect(distribution().CacheBehaviors).toBeUndefined();
    // No custom origin request policy: one naming Authorization would be refused by CloudFront.
    template.resourceCountIs('AWS::CloudFront::OriginRequestPolicy', 0);
  });

  test('HTTP/1.1 (CloudFront carries WebSockets over it), enabled, price class 100 by default', () => {
    expect(distribution().HttpVersion).toBe('http1.1');
    expect(distribution().Enabled).toBe(true);
    expect(distribution().PriceClass).toBe('PriceClass_100');
    const all = synth({ priceClass: 'All' });
    expect(resource(all, 'OcppDistribution/Resource').Properties.DistributionConfig.PriceClass).toBe('PriceClass_All');
    expect(() => synth({ priceClass: '300' })).toThrow(/priceClass/);
  });

  test('OcppUrl: the wss URL of the distribution, ending in /ocpp/', () => {
    template.hasOutput('OcppUrl', {
      Value: {
        'Fn::Join': ['', ['wss://', { 'Fn::GetAtt': [id('OcppDistribution/Resource'), 'DomainName'] }, '/ocpp/']],
      },
    });
  });

  test('custom domain: alias, certificate from us-east-1, TLS 1.2 floor, and the CNAME target as an output', () => {
    const arn = 'arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-0000-4000-8000-000000000001';
    const t = synth({ ocppDomainName: 'ocpp.example.com', ocppCertificateArn: arn });
    const config = resource(t, 'OcppDistribution/Resource').Properties.DistributionConfig;
    expect(config.Aliases).toEqual(['ocpp.example.com']);
    expect(config.ViewerCertificate).toEqual({
      AcmCertificateArn: arn,
      MinimumProtocolVersion: 'TLSv1.2_2021',
      SslSupportMethod: 'sni-only',
    });
    t.hasOutput('OcppUrl', { Value: 'wss://ocpp.example.com/ocpp/' });
    t.hasOutput('OcppDomainTarget', { Value: { 'Fn::GetAtt': [logicalId(t, 'OcppDistribution/Resource'), 'DomainName'] } });
    expect(() => synth({ ocppDomainName: 'ocpp.example.com', ocppCertificateArn: arn.replace('us-east-1', 'eu-west-1') }))
      .toThrow(/us-east-1/);
    expect(() => synth({ ocppDomainName: 'ocpp.example.com' })).toThrow(/ocppCertificateArn/);
  });

  test('a WAF web ACL is attached when given', () => {
    const acl = 'arn:aws:wafv2:us-east-1:123456789012:global/webacl/csms/0a1b2c3d-0000-4000-8000-000000000001';
    const t = synth({ webAclArn: acl });
    expect(resource(t, 'OcppDistribution/Resource').Properties.DistributionConfig.WebACLId).toBe(acl);
    expect(distribution().WebACLId).toBeUndefined();
    expect(() => synth({ webAclArn: 'arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/x/y' })).toThrow(/webAclArn/);
  });

  test('no Lambda@Edge: the rewrite is a CloudFront Function (no function outside the contract)', () => {
    const behaviors = JSON.stringify(resourcesOfType(template, 'AWS::CloudFront::Distribution'));
    expect(behaviors).not.toContain('LambdaFunctionAssociations');
  });
});
