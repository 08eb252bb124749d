import * as path from 'path';
import { Aws, Stack } from 'aws-cdk-lib';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import { CsmsConfig } from './config';
import { skipCheckov } from './suppressions';

/** The CloudFront function's code, unit-tested by test/ocpp-path-rewrite.test.ts. */
export const OCPP_PATH_REWRITE_FILE = path.join(__dirname, 'cloudfront', 'ocpp-path-rewrite.js');

export interface PileDoor {
  readonly distribution: cloudfront.Distribution;
  /** `wss://<host>/ocpp/`: a pile appends its station id. */
  readonly ocppUrl: string;
}

/**
 * The pile door: CloudFront in front of the WebSocket API's stage.
 *
 * API Gateway WebSocket APIs take no path after the stage, while OCPP-J puts the station id in the
 * last path segment, so a CloudFront Function moves it into the query string that `$connect`
 * reads. CloudFront also gives piles a stable host name (and an optional custom domain with its
 * certificate) in front of the generated execute-api one.
 */
export function addPileDoor(stack: Stack, api: apigwv2.WebSocketApi, config: CsmsConfig): PileDoor {
  const rewrite = new cloudfront.Function(stack, 'OcppPathRewrite', {
    comment: 'OCPP-J: /ocpp/<stationId> -> /ocpp?stationId=<stationId> for the WebSocket API',
    code: cloudfront.FunctionCode.fromFile({ filePath: OCPP_PATH_REWRITE_FILE }),
    runtime: cloudfront.FunctionRuntime.JS_2_0,
    autoPublish: true,
  });

  const origin = new origins.HttpOrigin(`${api.apiId}.execute-api.${stack.region}.${Aws.URL_SUFFIX}`, {
    protocolPolicy: cloudfront.OriginProtocolPolicy.HTTPS_ONLY,
    originSslProtocols: [cloudfront.OriginSslPolicy.TLS_V1_2],
  });

  const distribution = new cloudfront.Distribution(stack, 'OcppDistribution', {
    comment: `csms-${config.environment}: OCPP-J WebSocket endpoint for charge points`,
    defaultBehavior: {
      origin,
      // TLS only (OCPP security profile 2: TLS with Basic auth); the Basic auth password never
      // crosses the network in the clear, so no redirect from ws:// either.
      viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
      // The WebSocket handshake is a GET.
      allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD,
      // Nothing here may ever be cached: every handshake authenticates.
      cachePolicy: cloudfront.CachePolicy.CACHING_DISABLED,
      // Forwards every viewer header except Host (API Gateway routes by its own host name): the
      // handshake's Sec-WebSocket-Key / -Version / -Protocol / -Extensions and Authorization (the
      // pile's Basic auth). Authorization cannot be named in a custom origin request policy
      // (CloudFront answers 400); this managed policy forwards it when caching is disabled. It
      // forwards every query string too, which is how the function's `stationId` reaches $connect.
      originRequestPolicy: cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
      functionAssociations: [{ function: rewrite, eventType: cloudfront.FunctionEventType.VIEWER_REQUEST }],
      compress: false,
    },
    // CloudFront carries WebSockets over HTTP/1.1 only, and handshakes are all this serves.
    httpVersion: cloudfront.HttpVersion.HTTP1_1,
    priceClass: config.priceClass,
    enableIpv6: true,
    domainNames: config.ocppDomain ? [config.ocppDomain.domainName] : undefined,
    certificate: config.ocppDomain
      ? acm.Certificate.fromCertificateArn(stack, 'OcppCertificate', config.ocppDomain.certificateArn)
      : undefined,
    // Only a custom certificate can raise the viewer TLS floor; the default *.cloudfront.net
    // certificate has a fixed security policy.
    minimumProtocolVersion: config.ocppDomain ? cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021 : undefined,
    webAclId: config.webAclArn,
  });

  skipCheckov(distribution, {
    id: 'CKV_AWS_86',
    reason:
      'CloudFront standard logs would need an S3 bucket with ACLs; every handshake is already in the WebSocket ' +
      'stage access log (status, source IP, connection) and piles never reach the origin any other way.',
  });
  if (!config.webAclArn) {
    skipCheckov(distribution, {
      id: 'CKV_AWS_68',
      reason:
        'WAF is opt-in (-c webAclArn=...): handshakes are authenticated by $connect (Argon2id, per-station ' +
        'password) and the stage is throttled; a web ACL costs at least $5/month plus per-request fees.',
    });
  }
  if (!config.ocppDomain) {
    skipCheckov(distribution, {
      id: 'CKV_AWS_174',
      reason:
        'Without a custom domain the distribution uses the default *.cloudfront.net certificate, whose ' +
        'minimum protocol version CloudFront fixes; with -c ocppDomainName/ocppCertificateArn it is TLSv1.2_2021.',
    });
  }

  const host = config.ocppDomain ? config.ocppDomain.domainName : distribution.distributionDomainName;
  return { distribution, ocppUrl: `wss://${host}/ocpp/` };
}
