import { Aws, Duration, Stack } from 'aws-cdk-lib';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { CsmsConfig } from './config';
import { jsonAccessLogFormat, logGroup } from './logging';

/** The Cognito groups the API authorizes by (the `cognito:groups` claim of the access token). */
export const GROUPS = ['drivers', 'operators', 'admins'] as const;

export interface Identity {
  readonly userPool: cognito.UserPool;
  readonly webClient: cognito.UserPoolClient;
  readonly domain: cognito.UserPoolDomain;
  /** The `iss` of the pool's tokens: https://cognito-idp.<region>.amazonaws.com/<pool id>. */
  readonly issuerUrl: string;
}

/**
 * The users of the app door: a Cognito user pool with the three groups (which organisation an
 * operator acts for is data in OrganisationsTable, not a user attribute), a public app client
 * for the web apps (authorization code grant; no secret, so the apps must use PKCE, which Cognito
 * supports with S256 but cannot be told to require) and a hosted sign-in domain.
 */
export function addIdentity(stack: Stack, config: CsmsConfig): Identity {
  const userPool = new cognito.UserPool(stack, 'UserPool', {
    userPoolName: `csms-${config.environment}`,
    // Operators invite drivers and staff (AdminCreateUser); open sign-up is a product decision.
    selfSignUpEnabled: false,
    signInAliases: { email: true },
    autoVerify: { email: true },
    standardAttributes: {
      email: { required: true, mutable: true },
      fullname: { required: false, mutable: true },
    },
    passwordPolicy: {
      minLength: 12,
      requireLowercase: true,
      requireUppercase: true,
      requireDigits: true,
      requireSymbols: false,
      tempPasswordValidity: Duration.days(3),
    },
    mfa: cognito.Mfa.OPTIONAL,
    mfaSecondFactor: { otp: true, sms: false },
    accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
    // Essentials: Cognito's default plan for new pools.
    featurePlan: cognito.FeaturePlan.ESSENTIALS,
    deletionProtection: config.deletionProtection,
    removalPolicy: config.removalPolicy,
  });

  // Precedence decides which group's IAM role would win; lower is stronger.
  const precedence: Record<(typeof GROUPS)[number], number> = { admins: 10, operators: 20, drivers: 30 };
  const describe: Record<(typeof GROUPS)[number], string> = {
    drivers: 'Drivers: their own tokens, sessions and nearby stations',
    operators: "Operators: their organisation's stations, commands and sessions",
    admins: 'Administrators: every organisation',
  };
  for (const group of GROUPS) {
    userPool.addGroup(`${group[0].toUpperCase()}${group.slice(1)}Group`, {
      groupName: group,
      description: describe[group],
      precedence: precedence[group],
    });
  }

  const webClient = userPool.addClient('WebAppClient', {
    userPoolClientName: `csms-${config.environment}-web`,
    // A browser app cannot keep a secret: public client, authorization code grant with PKCE.
    generateSecret: false,
    authFlows: { userSrp: true },
    oAuth: {
      flows: { authorizationCodeGrant: true, implicitCodeGrant: false, clientCredentials: false },
      scopes: [cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL, cognito.OAuthScope.PROFILE],
      callbackUrls: config.oauthCallbackUrls,
      logoutUrls: config.oauthLogoutUrls,
    },
    supportedIdentityProviders: [cognito.UserPoolClientIdentityProvider.COGNITO],
    preventUserExistenceErrors: true,
    enableTokenRevocation: true,
    accessTokenValidity: Duration.hours(1),
    idTokenValidity: Duration.hours(1),
    refreshTokenValidity: Duration.days(30),
    readAttributes: new cognito.ClientAttributes()
      .withStandardAttributes({ email: true, emailVerified: true, fullname: true }),
    writeAttributes: new cognito.ClientAttributes().withStandardAttributes({ email: true, fullname: true }),
  });

  const domain = userPool.addDomain('HostedSignInDomain', {
    cognitoDomain: {
      // Unique per region across all of AWS; the default includes the account id.
      domainPrefix: config.cognitoDomainPrefix ?? `csms-${config.environment}-${Aws.ACCOUNT_ID}`,
    },
  });

  const issuerUrl = `https://cognito-idp.${stack.region}.${Aws.URL_SUFFIX}/${userPool.userPoolId}`;
  return { userPool, webClient, domain, issuerUrl };
}

export interface AppDoor {
  readonly httpApi: apigwv2.HttpApi;
  readonly stage: apigwv2.HttpStage;
  readonly accessLogs: logs.LogGroup;
  /** Base URL of the API (custom domain when configured), ending in '/'. */
  readonly apiUrl: string;
  readonly domainName?: apigwv2.DomainName;
}

/**
 * The app door: an HTTP API (payload format 2.0) whose every route but `GET /openapi.json`
 * requires a valid Cognito access token (JWT authorizer: signature against the pool's JWKS,
 * issuer, expiry, and `client_id` against the web app client), routed to the API function.
 */
export function addAppDoor(stack: Stack, apiFn: lambda.IFunction, identity: Identity, config: CsmsConfig): AppDoor {
  const httpApi = new apigwv2.HttpApi(stack, 'HttpApi', {
    apiName: `csms-${config.environment}-api`,
    description: 'CSMS app API for the driver app, the operator console and third-party apps',
    createDefaultStage: false,
    // No browser origin may call the API unless the operator names it (-c corsOrigins=...).
    corsPreflight: config.corsOrigins.length
      ? {
          allowOrigins: config.corsOrigins,
          allowMethods: [
            apigwv2.CorsHttpMethod.GET,
            apigwv2.CorsHttpMethod.POST,
            apigwv2.CorsHttpMethod.PUT,
            apigwv2.CorsHttpMethod.PATCH,
            apigwv2.CorsHttpMethod.DELETE,
          ],
          allowHeaders: ['authorization', 'content-type'],
          // Bearer tokens, not cookies.
          allowCredentials: false,
          maxAge: Duration.hours(1),
        }
      : undefined,
  });

  const domainName = config.apiDomain
    ? new apigwv2.DomainName(stack, 'ApiDomainName', {
        domainName: config.apiDomain.domainName,
        certificate: acm.Certificate.fromCertificateArn(stack, 'ApiCertificate', config.apiDomain.certificateArn),
        securityPolicy: apigwv2.SecurityPolicy.TLS_1_2,
      })
    : undefined;

  const accessLogs = logGroup(stack, 'HttpApiAccessLogs', config);
  const stage = new apigwv2.HttpStage(stack, 'HttpStage', {
    httpApi,
    stageName: '$default',
    autoDeploy: true,
    // A ceiling on what apps can make Lambda and DynamoDB do (the account default is 10,000 rps).
    throttle: config.appDoorThrottle,
    accessLogSettings: {
      destination: new apigwv2.LogGroupLogDestination(accessLogs),
      format: jsonAccessLogFormat({
        requestId: '$context.requestId',
        ip: '$context.identity.sourceIp',
        requestTime: '$context.requestTime',
        httpMethod: '$context.httpMethod',
        routeKey: '$context.routeKey',
        // No $context.path: paths carry id tokens (personal data). The function logs the route
        // template it matched (`route`), with this request id.
        status: '$context.status',
        protocol: '$context.protocol',
        responseLength: '$context.responseLength',
        responseLatency: '$context.responseLatency',
        integrationLatency: '$context.integrationLatency',
        integrationError: '$context.integrationErrorMessage',
        authorizerError: '$context.authorizer.error',
        error: '$context.error.message',
        // Who called (the Cognito user's id), never the token itself.
        sub: '$context.authorizer.claims.sub',
      }),
    },
  });
  if (domainName) {
    // An explicit mapping rather than the stage's `domainMapping`, which names its resource after
    // an undefined mapping key and adds a DependsOn that cfn-lint flags as redundant.
    new apigwv2.ApiMapping(stack, 'ApiDomainMapping', { api: httpApi, domainName, stage });
  }

  const integration = new HttpLambdaIntegration('ApiIntegration', apiFn, {
    payloadFormatVersion: apigwv2.PayloadFormatVersion.VERSION_2_0,
  });
  const authorizer = new HttpJwtAuthorizer('CognitoAuthorizer', identity.issuerUrl, {
    authorizerName: 'cognito',
    identitySource: ['$request.header.Authorization'],
    // Cognito access tokens carry no `aud`; API Gateway then checks `client_id` against this list.
    jwtAudience: [identity.webClient.userPoolClientId],
  });
  httpApi.addRoutes({ path: '/{proxy+}', methods: [apigwv2.HttpMethod.ANY], integration, authorizer });
  // The API description is public on purpose: app developers read it before they have an account.
  httpApi.addRoutes({ path: '/openapi.json', methods: [apigwv2.HttpMethod.GET], integration });

  const apiUrl = domainName ? `https://${config.apiDomain!.domainName}/` : stage.url;
  return { httpApi, stage, accessLogs, apiUrl, domainName };
}
