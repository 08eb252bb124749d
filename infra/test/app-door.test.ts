import { Template } from 'aws-cdk-lib/assertions';
import { logicalId, resource, resourcesOfType, synth } from './template';

const template: Template = synth();
const id = (path: string) => logicalId(template, path);
const ISSUER = {
  'Fn::Join': ['', ['https://cognito-idp.', { Ref: 'AWS::Region' }, '.', { Ref: 'AWS::URLSuffix' }, '/', { Ref: id('UserPool/Resource') }]],
};

describe('Cognito user pool', () => {
  const pool = () => resource(template, 'UserPool/Resource');

  test('one pool, email sign-in, invited users, strong passwords, kept by default, protected when set', () => {
    template.resourceCountIs('AWS::Cognito::UserPool', 1);
    const p = pool().Properties;
    expect(p.UserPoolName).toBe('csms-dev');
    expect(p.UsernameAttributes).toEqual(['email']);
    expect(p.AutoVerifiedAttributes).toEqual(['email']);
    expect(p.AdminCreateUserConfig.AllowAdminCreateUserOnly).toBe(true);
    expect(p.Policies.PasswordPolicy.MinimumLength).toBeGreaterThanOrEqual(12);
    expect(p.DeletionProtection).toBe('INACTIVE');
    expect(pool().DeletionPolicy).toBe('RetainExceptOnCreate');
    expect(resource(synth({ deletionProtection: true }), 'UserPool/Resource').Properties.DeletionProtection).toBe('ACTIVE');
    const destroyable = synth({ removalPolicy: 'destroy' });
    expect(resource(destroyable, 'UserPool/Resource').DeletionPolicy).toBe('Delete');
    expect(resource(destroyable, 'UserPool/Resource').Properties.DeletionProtection).toBe('INACTIVE');
  });

  test('no organisation attribute and no token trigger: memberships live in OrganisationsTable', () => {
    const schema = (pool().Properties.Schema ?? []) as any[];
    expect(schema.filter((a) => a.Name === 'org')).toEqual([]);
    expect(pool().Properties.LambdaConfig).toBeUndefined();
  });

  test('groups drivers, operators, admins', () => {
    const groups = Object.values(resourcesOfType(template, 'AWS::Cognito::UserPoolGroup'));
    expect(groups.map((g) => g.Properties.GroupName).sort()).toEqual(['admins', 'drivers', 'operators']);
    for (const g of groups) expect(g.Properties.UserPoolId).toEqual({ Ref: id('UserPool/Resource') });
  });

  test('web app client: authorization code only, no secret (public client, PKCE), Cognito users', () => {
    template.resourceCountIs('AWS::Cognito::UserPoolClient', 1);
    const c = resource(template, 'UserPool/WebAppClient/Resource').Properties;
    expect(c.UserPoolId).toEqual({ Ref: id('UserPool/Resource') });
    expect(c.GenerateSecret).toBe(false);
    expect(c.AllowedOAuthFlows).toEqual(['code']);
    expect(c.AllowedOAuthFlowsUserPoolClient).toBe(true);
    expect(c.AllowedOAuthScopes).toEqual(expect.arrayContaining(['openid']));
    expect(c.SupportedIdentityProviders).toEqual(['COGNITO']);
    expect(c.PreventUserExistenceErrors).toBe('ENABLED');
    expect(c.EnableTokenRevocation).toBe(true);
    expect(c.CallbackURLs).toEqual(['http://localhost:5173/auth/callback']);
    expect(c.ReadAttributes).not.toContain('custom:org');
  });

  test('callback and logout URLs from context; http only for localhost', () => {
    const t = synth({ oauthCallbackUrls: 'https://app.example.com/cb,https://console.example.com/cb', oauthLogoutUrls: 'https://app.example.com/' });
    const c = resource(t, 'UserPool/WebAppClient/Resource').Properties;
    expect(c.CallbackURLs).toEqual(['https://app.example.com/cb', 'https://console.example.com/cb']);
    expect(c.LogoutURLs).toEqual(['https://app.example.com/']);
    expect(() => synth({ oauthCallbackUrls: 'http://app.example.com/cb' })).toThrow(/oauthCallbackUrls/);
  });

  test('hosted sign-in domain: prefix from context, or csms-<env>-<account>', () => {
    expect(resource(template, 'UserPool/HostedSignInDomain/Resource').Properties.Domain).toEqual({
      'Fn::Join': ['', ['csms-dev-', { Ref: 'AWS::AccountId' }]],
    });
    const t = synth({ cognitoDomainPrefix: 'acme-charging' });
    expect(resource(t, 'UserPool/HostedSignInDomain/Resource').Properties.Domain).toBe('acme-charging');
    expect(() => synth({ cognitoDomainPrefix: 'my-cognito-login' })).toThrow(/cognitoDomainPrefix/);
    expect(() => synth({ cognitoDomainPrefix: 'Upper' })).toThrow(/cognitoDomainPrefix/);
  });

  test('outputs: user pool, app client, issuer, hosted sign-in', () => {
    template.hasOutput('UserPoolId', { Value: { Ref: id('UserPool/Resource') } });
    template.hasOutput('AppClientId', { Value: { Ref: id('UserPool/WebAppClient/Resource') } });
    template.hasOutput('IssuerUrl', { Value: ISSUER });
    template.hasOutput('HostedSignInUrl', {});
  });
});

describe('HTTP API', () => {
  const apiId = () => id('HttpApi/Resource');
  const routes = () =>
    Object.values(resourcesOfType(template, 'AWS::ApiGatewayV2::Route')).filter((r) => r.Properties.ApiId.Ref === apiId());

  test('an HTTP API with a throttled, auto-deployed $default stage', () => {
    expect(resource(template, 'HttpApi/Resource').Properties.ProtocolType).toBe('HTTP');
    const stage = resource(template, 'HttpStage/Resource').Properties;
    expect(stage.ApiId).toEqual({ Ref: apiId() });
    expect(stage.StageName).toBe('$default');
    expect(stage.AutoDeploy).toBe(true);
    expect(stage.DefaultRouteSettings.ThrottlingRateLimit).toBeGreaterThan(0);
    expect(stage.DefaultRouteSettings.ThrottlingBurstLimit).toBeGreaterThan(0);
  });

  test('access logs: JSON, with the caller (sub) but never a token', () => {
    const stage = resource(template, 'HttpStage/Resource').Properties;
    expect(stage.AccessLogSettings.DestinationArn).toEqual({ 'Fn::GetAtt': [id('HttpApiAccessLogs/Resource'), 'Arn'] });
    const format = JSON.parse(stage.AccessLogSettings.Format);
    expect(format).toEqual(expect.objectContaining({
      requestId: '$context.requestId', routeKey: '$context.routeKey', status: '$context.status', sub: '$context.authorizer.claims.sub',
    }));
    expect(stage.AccessLogSettings.Format).not.toMatch(/authorization|header/i);
    // Paths name id tokens (/v1/operator/tokens/{idToken}), which are personal data: the access
    // log has the route key, the function logs the route template it matched.
    expect(stage.AccessLogSettings.Format).not.toMatch(/\$context\.(path|resourcePath)/);
  });

  test('JWT authorizer: the pool\'s issuer, the web app client as audience, the Authorization header', () => {
    template.resourceCountIs('AWS::ApiGatewayV2::Authorizer', 1);
    const a = resource(template, 'HttpApi/CognitoAuthorizer/Resource').Properties;
    expect(a.ApiId).toEqual({ Ref: apiId() });
    expect(a.AuthorizerType).toBe('JWT');
    expect(a.IdentitySource).toEqual(['$request.header.Authorization']);
    expect(a.JwtConfiguration).toEqual({ Issuer: ISSUER, Audience: [{ Ref: id('UserPool/WebAppClient/Resource') }] });
  });

  test('routes: ANY /{proxy+} behind the authorizer, GET /openapi.json open, both to the API function (payload 2.0)', () => {
    const byKey = Object.fromEntries(routes().map((r) => [r.Properties.RouteKey, r.Properties]));
    expect(Object.keys(byKey).sort()).toEqual(['ANY /{proxy+}', 'GET /openapi.json']);
    expect(byKey['ANY /{proxy+}'].AuthorizationType).toBe('JWT');
    expect(byKey['ANY /{proxy+}'].AuthorizerId).toEqual({ Ref: id('HttpApi/CognitoAuthorizer/Resource') });
    expect(byKey['GET /openapi.json'].AuthorizationType ?? 'NONE').toBe('NONE');
    expect(byKey['GET /openapi.json'].AuthorizerId).toBeUndefined();
    const integrations = Object.entries(resourcesOfType(template, 'AWS::ApiGatewayV2::Integration'))
      .filter(([, i]) => i.Properties.ApiId.Ref === apiId());
    expect(integrations).toHaveLength(1);
    const [[integrationId, integration]] = integrations;
    expect(integration.Properties.IntegrationType).toBe('AWS_PROXY');
    expect(integration.Properties.PayloadFormatVersion).toBe('2.0');
    // The function's live alias (lib/releases.ts), never the function itself.
    expect(integration.Properties.IntegrationUri).toEqual({ Ref: id('ApiFunction/Live/Resource') });
    for (const route of Object.values(byKey) as any[]) {
      expect(route.Target).toEqual({ 'Fn::Join': ['', ['integrations/', { Ref: integrationId }]] });
    }
  });

  test('CORS: none by default; the configured origins only', () => {
    expect(resource(template, 'HttpApi/Resource').Properties.CorsConfiguration).toBeUndefined();
    const t = synth({ corsOrigins: 'https://app.example.com,https://console.example.com' });
    const cors = resource(t, 'HttpApi/Resource').Properties.CorsConfiguration;
    expect(cors.AllowOrigins).toEqual(['https://app.example.com', 'https://console.example.com']);
    expect(cors.AllowHeaders).toEqual(expect.arrayContaining(['authorization', 'content-type']));
    expect(cors.AllowCredentials).toBe(false);
    expect(() => synth({ corsOrigins: '*' })).toThrow(/corsOrigins/);
    expect(() => synth({ corsOrigins: 'https://app.example.com/path' })).toThrow(/corsOrigins/);
    // Plain http only for local development: a page served over http can be altered in transit.
    expect(() => synth({ corsOrigins: 'http://app.example.com' })).toThrow(/corsOrigins.*https/);
    expect(() => synth({ corsOrigins: 'http://localhost.example.com' })).toThrow(/corsOrigins/);
    const local = synth({ corsOrigins: 'http://localhost:5173,http://127.0.0.1:8080' });
    expect(resource(local, 'HttpApi/Resource').Properties.CorsConfiguration.AllowOrigins).toEqual([
      'http://localhost:5173',
      'http://127.0.0.1:8080',
    ]);
  });

  test('ApiUrl output; a custom domain maps the stage and gives its DNS target', () => {
    template.hasOutput('ApiUrl', {});
    const arn = 'arn:aws:acm:eu-west-1:123456789012:certificate/0a1b2c3d-0000-4000-8000-000000000002';
    const t = synth({ apiDomainName: 'api.example.com', apiCertificateArn: arn });
    t.hasResourceProperties('AWS::ApiGatewayV2::DomainName', {
      DomainName: 'api.example.com',
      DomainNameConfigurations: [{ CertificateArn: arn, EndpointType: 'REGIONAL', SecurityPolicy: 'TLS_1_2' }],
    });
    t.resourceCountIs('AWS::ApiGatewayV2::ApiMapping', 1);
    t.hasOutput('ApiUrl', { Value: 'https://api.example.com/' });
    t.hasOutput('ApiDomainTarget', {});
  });
});
