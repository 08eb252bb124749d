import { Match, Template } from 'aws-cdk-lib/assertions';
import { FUNCTIONS, logicalId, referencedIds, resource, resourcesOfType, synth } from './template';

const template: Template = synth();

/**
 * A function's permissions: its role's default policy and, when that grew past IAM's size
 * limit, the managed overflow policies CDK moves the rest into (`ServiceRole/OverflowPolicy<n>`).
 */
function policyOf(fn: string) {
  const paths = Object.values(template.toJSON().Resources as Record<string, any>)
    .map((r) => String(r.Metadata?.['aws:cdk:path'] ?? ''))
    .filter((p) => p === `Csms/${fn}/ServiceRole/DefaultPolicy/Resource` || p.startsWith(`Csms/${fn}/ServiceRole/OverflowPolicy`));
  const Statement = paths.flatMap((p) => resource(template, p.slice('Csms/'.length)).Properties.PolicyDocument.Statement as any[]);
  return { Properties: { PolicyDocument: { Statement } } };
}
const id = (path: string) => logicalId(template, path);

describe('functions', () => {
  test('exactly the functions of the contract, and the CDK\'s handlers that upload and clean up the web apps', () => {
    const functions = Object.values(resourcesOfType(template, 'AWS::Lambda::Function'));
    const ours = FUNCTIONS.map((fn) => `Csms/${fn}/Resource`);
    const others = functions.map((f) => f.Metadata['aws:cdk:path']).filter((p: string) => !ours.includes(p));
    expect(functions).toHaveLength(FUNCTIONS.length + 2);
    expect(others.sort()).toEqual([
      expect.stringMatching(/^Csms\/Custom::CDKBucketDeployment/),
      expect.stringMatching(/^Csms\/Custom::S3AutoDeleteObjectsCustomResourceProvider/),
    ]);
  });

  test.each(FUNCTIONS)('%s: arm64, provided.al2023, JSON logs with retention, X-Ray', (fn) => {
    const p = resource(template, `${fn}/Resource`).Properties;
    expect(p.Architectures).toEqual(['arm64']);
    expect(p.Runtime).toBe('provided.al2023');
    expect(p.Handler).toBe('bootstrap');
    expect(p.TracingConfig).toEqual({ Mode: 'Active' });
    expect(p.LoggingConfig.LogFormat).toBe('JSON');
    expect(p.LoggingConfig.LogGroup).toEqual({ Ref: id(`${fn}Logs/Resource`) });
    expect(resource(template, `${fn}Logs/Resource`).Properties.RetentionInDays).toBeGreaterThan(0);
  });

  test.each(['ConnectFunction', 'MessageFunction', 'DisconnectFunction'])(
    '%s answers well within API Gateway\'s 29 s',
    (fn) => {
      expect(resource(template, `${fn}/Resource`).Properties.Timeout).toBeLessThanOrEqual(15);
    },
  );

  test('the queue consumers: 256 MB, 30 s per batch; commands 10 s (a few calls per command)', () => {
    for (const fn of ['StatusFunction', 'SessionsFunction', 'CommandsFunction', 'ReservationsFunction']) {
      expect(resource(template, `${fn}/Resource`).Properties.MemorySize).toBe(256);
    }
    for (const fn of ['StatusFunction', 'SessionsFunction', 'ReservationsFunction']) {
      expect(resource(template, `${fn}/Resource`).Properties.Timeout).toBe(30);
    }
    expect(resource(template, 'CommandsFunction/Resource').Properties.Timeout).toBe(10);
  });

  test('api: 256 MB, 10 s (JWT checks and a few DynamoDB calls per request)', () => {
    const p = resource(template, 'ApiFunction/Resource').Properties;
    expect(p.MemorySize).toBe(256);
    expect(p.Timeout).toBe(10);
  });

  test('connect has room for Argon2id; message and disconnect are small', () => {
    const memory = (fn: string) => resource(template, `${fn}/Resource`).Properties.MemorySize;
    expect(memory('ConnectFunction')).toBeGreaterThanOrEqual(512);
    expect(memory('ConnectFunction')).toBeLessThanOrEqual(1024);
    expect(memory('MessageFunction')).toBe(256);
    expect(memory('DisconnectFunction')).toBe(256);
  });
});

describe('environment', () => {
  const ENV: Record<string, string[]> = {
    ConnectFunction: ['STATIONS_TABLE', 'CONNECTIONS_TABLE', 'CONNECTIONS_ENDPOINT', 'COMMANDS_TABLE'],
    MessageFunction: [
      'STATIONS_TABLE', 'CONNECTIONS_TABLE', 'STATION_EVENTS_TABLE', 'STATUS_QUEUE_URL',
      'HEARTBEAT_INTERVAL_SECONDS',
      'TOKENS_TABLE', 'TRANSACTIONS_TABLE', 'ANOMALIES_TABLE', 'SESSION_EVENTS_QUEUE_URL', 'COMMANDS_TABLE',
      'RESERVATIONS_TABLE', 'RESERVATION_EVENTS_QUEUE_URL',
    ],
    DisconnectFunction: ['STATIONS_TABLE', 'CONNECTIONS_TABLE', 'COMMANDS_TABLE'],
    StatusFunction: ['AVAILABILITY_TABLE', 'STATUS_HISTORY_TABLE', 'STATIONS_TABLE', 'ANOMALIES_TABLE'],
    SessionsFunction: [
      'SESSIONS_TABLE', 'METER_SERIES_TABLE', 'SESSION_COMPLETED_QUEUE_URL', 'TOKENS_TABLE', 'STATIONS_TABLE',
    ],
    CommandsFunction: [
      'STATIONS_TABLE', 'CONNECTIONS_TABLE', 'COMMANDS_TABLE', 'COMMANDS_QUEUE_URL',
      'COMMAND_DEADLINES_QUEUE_URL', 'CONNECTIONS_ENDPOINT', 'RESERVATION_EVENTS_QUEUE_URL',
    ],
    ApiFunction: [
      'AUTH_ISSUER', 'AUTH_AUDIENCE', 'AUTH_TOKEN_USE',
      'STATIONS_TABLE', 'CONNECTIONS_TABLE', 'AVAILABILITY_TABLE', 'STATUS_HISTORY_TABLE', 'TOKENS_TABLE',
      'SESSIONS_TABLE', 'METER_SERIES_TABLE', 'COMMANDS_TABLE', 'COMMANDS_QUEUE_URL', 'CONNECTIONS_ENDPOINT', 'ORGANISATIONS_TABLE',
      'LIMITS_TABLE', 'SUBJECT_REQUESTS_PER_MINUTE',
      'RESERVATIONS_TABLE', 'RESERVATION_EVENTS_QUEUE_URL', 'RESERVATION_MAX_MINUTES', 'RESERVATION_ONE_PER_DRIVER',
    ],
    ReservationsFunction: [
      'RESERVATIONS_TABLE', 'STATIONS_TABLE', 'CONNECTIONS_TABLE', 'AVAILABILITY_TABLE', 'COMMANDS_QUEUE_URL',
      'RESERVATION_SCHEDULE_GROUP', 'RESERVATION_EVENTS_QUEUE_ARN', 'RESERVATION_SCHEDULER_ROLE_ARN',
      'RESERVATION_EXPIRY_DLQ_ARN',
    ],
  };
  const env = (t: Template, fn: string) => resource(t, `${fn}/Resource`).Properties.Environment.Variables;

  test.each(Object.entries(ENV))('%s has exactly its variables', (fn, names) => {
    expect(Object.keys(env(template, fn)).sort()).toEqual([...names].sort());
  });

  test('variables carry the physical names of the contract resources', () => {
    const m = env(template, 'MessageFunction');
    expect(m.STATIONS_TABLE).toEqual({ Ref: id('StationsTable/Resource') });
    expect(m.CONNECTIONS_TABLE).toEqual({ Ref: id('ConnectionsTable/Resource') });
    expect(m.STATION_EVENTS_TABLE).toEqual({ Ref: id('StationEventsTable/Resource') });
    expect(m.STATUS_QUEUE_URL).toEqual({ Ref: id('StatusQueue/Resource') });
    expect(m.TOKENS_TABLE).toEqual({ Ref: id('TokensTable/Resource') });
    expect(m.TRANSACTIONS_TABLE).toEqual({ Ref: id('TransactionsTable/Resource') });
    expect(m.ANOMALIES_TABLE).toEqual({ Ref: id('AnomaliesTable/Resource') });
    expect(m.SESSION_EVENTS_QUEUE_URL).toEqual({ Ref: id('SessionEventsQueue/Resource') });
    const n = env(template, 'SessionsFunction');
    expect(n.SESSIONS_TABLE).toEqual({ Ref: id('SessionsTable/Resource') });
    expect(n.METER_SERIES_TABLE).toEqual({ Ref: id('MeterSeriesTable/Resource') });
    expect(env(template, 'ApiFunction').METER_SERIES_TABLE).toEqual({ Ref: id('MeterSeriesTable/Resource') });
    expect(n.SESSION_COMPLETED_QUEUE_URL).toEqual({ Ref: id('SessionCompletedQueue/Resource') });
    expect(n.TOKENS_TABLE).toEqual({ Ref: id('TokensTable/Resource') });
    expect(n.STATIONS_TABLE).toEqual({ Ref: id('StationsTable/Resource') });
    const s = env(template, 'StatusFunction');
    expect(s.AVAILABILITY_TABLE).toEqual({ Ref: id('AvailabilityTable/Resource') });
    expect(s.STATUS_HISTORY_TABLE).toEqual({ Ref: id('StatusHistoryTable/Resource') });
  });

  test('api: the token checks name the user pool and the web app client; the resources of the contract', () => {
    const a = env(template, 'ApiFunction');
    expect(a.AUTH_ISSUER).toEqual({
      'Fn::Join': ['', [
        'https://cognito-idp.', { Ref: 'AWS::Region' }, '.', { Ref: 'AWS::URLSuffix' }, '/', { Ref: id('UserPool/Resource') },
      ]],
    });
    expect(a.AUTH_AUDIENCE).toEqual({ Ref: id('UserPool/WebAppClient/Resource') });
    expect(a.AUTH_TOKEN_USE).toBe('access');
    expect(a.STATIONS_TABLE).toEqual({ Ref: id('StationsTable/Resource') });
    expect(a.COMMANDS_TABLE).toEqual({ Ref: id('CommandsTable/Resource') });
    expect(a.COMMANDS_QUEUE_URL).toEqual({ Ref: id('CommandsQueue/Resource') });
    expect(a.ORGANISATIONS_TABLE).toEqual({ Ref: id('OrganisationsTable/Resource') });
    // The same value as every other function's, so the local stand-in resolves them alike.
    expect(a.COMMANDS_QUEUE_URL).toEqual(env(template, 'CommandsFunction').COMMANDS_QUEUE_URL);
  });

  test('CONNECTIONS_ENDPOINT is the stage callback URL', () => {
    const expected = {
      'Fn::Join': ['', [
        'https://', { Ref: id('WebSocketApi/Resource') }, '.execute-api.', { Ref: 'AWS::Region' },
        '.', { Ref: 'AWS::URLSuffix' }, '/ocpp',
      ]],
    };
    expect(env(template, 'ConnectFunction').CONNECTIONS_ENDPOINT).toEqual(expected);
    expect(env(template, 'CommandsFunction').CONNECTIONS_ENDPOINT).toEqual(expected);
    expect(env(template, 'ApiFunction').CONNECTIONS_ENDPOINT).toEqual(expected);
    template.hasOutput('CallbackUrl', { Value: expected });
    template.hasOutput('WebSocketUrl', { Value: Match.objectLike({}) });
  });

  test('limits (issue 10): the LimitsTable, and a request budget per user of 600 a minute by default', () => {
    const a = env(template, 'ApiFunction');
    expect(a.LIMITS_TABLE).toEqual({ Ref: id('LimitsTable/Resource') });
    expect(a.SUBJECT_REQUESTS_PER_MINUTE).toBe('600');
    expect(env(synth({ subjectRequestsPerMinute: '60' }), 'ApiFunction').SUBJECT_REQUESTS_PER_MINUTE).toBe('60');
    expect(() => synth({ subjectRequestsPerMinute: '0' })).toThrow(/subjectRequestsPerMinute/);
  });

  test('heartbeat interval: 300 by default, from context, refused at 600 and above', () => {
    expect(env(template, 'MessageFunction').HEARTBEAT_INTERVAL_SECONDS).toBe('300');
    expect(env(synth({ heartbeatIntervalSeconds: '120' }), 'MessageFunction').HEARTBEAT_INTERVAL_SECONDS).toBe('120');
    expect(() => synth({ heartbeatIntervalSeconds: '600' })).toThrow(/heartbeatIntervalSeconds/);
    expect(() => synth({ heartbeatIntervalSeconds: 'often' })).toThrow(/heartbeatIntervalSeconds/);
  });
});

describe('IAM', () => {
  // Roles' inline policies and the managed overflow policies CDK moves a large one's rest into.
  const policies = { ...resourcesOfType(template, 'AWS::IAM::Policy'), ...resourcesOfType(template, 'AWS::IAM::ManagedPolicy') };
  const statements = Object.values(policies).flatMap((p) => p.Properties.PolicyDocument.Statement as any[]);
  const asList = (v: unknown) => (Array.isArray(v) ? v : [v]);

  test('no statement grants Resource "*", except X-Ray writes (no resource-level permissions)', () => {
    expect(statements.length).toBeGreaterThan(0);
    for (const s of statements) {
      if (asList(s.Resource).includes('*')) {
        expect(asList(s.Action).every((a: string) => a.startsWith('xray:Put'))).toBe(true);
      }
    }
  });

  test('functions: no managed policy beyond basic execution', () => {
    for (const fn of FUNCTIONS) {
      const role = resource(template, `${fn}/ServiceRole/Resource`);
      const arns = JSON.stringify(role.Properties.ManagedPolicyArns ?? []);
      expect(arns.match(/policy\/[\w/-]+/g)).toEqual(['policy/service-role/AWSLambdaBasicExecutionRole']);
    }
  });

  test('the only other roles: the reservation scheduler\'s, API Gateway\'s account-wide CloudWatch Logs role, kept on deletion, and CodeDeploy\'s', () => {
    const roles = resourcesOfType(template, 'AWS::IAM::Role');
    // The functions', the reservation scheduler's, this one, CodeDeploy's, and the web apps'
    // upload and clean-up handlers' (test/web-door.test.ts).
    expect(Object.keys(roles)).toHaveLength(FUNCTIONS.length + 5);
    const role = resource(template, 'ApiGatewayCloudWatchRole/Resource');
    expect(role.DeletionPolicy).toBe('RetainExceptOnCreate');
    expect(JSON.stringify(role.Properties.ManagedPolicyArns).match(/policy\/[\w/-]+/g)).toEqual([
      'policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs',
    ]);
    expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([
      expect.objectContaining({ Principal: { Service: 'apigateway.amazonaws.com' }, Action: 'sts:AssumeRole' }),
    ]);
    const account = resource(template, 'ApiGatewayAccount');
    expect(account.Properties.CloudWatchRoleArn).toEqual({ 'Fn::GetAtt': [id('ApiGatewayCloudWatchRole/Resource'), 'Arn'] });
    // Without it (an account that has the setting already), no role and no account resource.
    const without = synth({ apiGatewayCloudWatchRole: 'false' });
    without.resourceCountIs('AWS::ApiGateway::Account', 0);
    without.resourceCountIs('AWS::IAM::Role', FUNCTIONS.length + 4);
  });

  // Resources each function's role may touch, by construct path.
  const ACCESS: Record<string, string[]> = {
    ConnectFunction: ['StationsTable', 'ConnectionsTable', 'WebSocketApi', 'CommandsTable'],
    MessageFunction: [
      'StationsTable', 'ConnectionsTable', 'StationEventsTable', 'StatusQueue',
      'TokensTable', 'TransactionsTable', 'AnomaliesTable', 'SessionEventsQueue', 'CommandsTable',
      'ReservationsTable', 'ReservationEventsQueue',
    ],
    DisconnectFunction: ['StationsTable', 'ConnectionsTable', 'CommandsTable'],
    StatusFunction: ['AvailabilityTable', 'StatusHistoryTable', 'StatusQueue', 'StationsTable', 'AnomaliesTable'],
    SessionsFunction: [
      'SessionsTable', 'MeterSeriesTable', 'SessionEventsQueue', 'SessionCompletedQueue', 'TokensTable', 'StationsTable',
    ],
    CommandsFunction: [
      'StationsTable', 'ConnectionsTable', 'CommandsTable', 'CommandsQueue', 'CommandDeadlinesQueue', 'WebSocketApi',
      'ReservationEventsQueue',
    ],
    ApiFunction: [
      'StationsTable', 'ConnectionsTable', 'AvailabilityTable', 'StatusHistoryTable', 'TokensTable', 'SessionsTable',
      'MeterSeriesTable', 'CommandsTable', 'CommandsQueue', 'WebSocketApi', 'OrganisationsTable', 'LimitsTable', 'ReservationsTable',
      'ReservationEventsQueue',
    ],
    ReservationsFunction: [
      'ReservationsTable', 'StationsTable', 'ConnectionsTable', 'AvailabilityTable', 'CommandsQueue',
      'ReservationEventsQueue', 'ReservationSchedules', 'ReservationSchedulerRole',
    ],
  };
  // CloudFormation-level constructs (no L2 wrapper): found by their own path.
  const pathOf = (c: string) => (c === 'ReservationSchedules' ? c : `${c}/Resource`);

  test.each(Object.entries(ACCESS))('%s reaches only its own resources', (fn, allowed) => {
    const touched = referencedIds(policyOf(fn).Properties.PolicyDocument);
    expect([...touched].sort()).toEqual(allowed.map((c) => id(pathOf(c))).sort());
  });

  const actionsOn = (fn: string, construct: string): string[] => {
    const target = id(`${construct}/Resource`);
    return (policyOf(fn).Properties.PolicyDocument.Statement as any[])
      .filter((s) => referencedIds(s.Resource).has(target))
      .flatMap((s) => asList(s.Action));
  };

  test('read versus write as listed', () => {
    expect(actionsOn('ConnectFunction', 'StationsTable')).toEqual(expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:UpdateItem']));
    expect(actionsOn('MessageFunction', 'StationEventsTable')).not.toContain('dynamodb:GetItem');
    expect(actionsOn('MessageFunction', 'StatusQueue')).toContain('sqs:SendMessage');
    expect(actionsOn('MessageFunction', 'StatusQueue')).not.toContain('sqs:ReceiveMessage');
    expect(actionsOn('DisconnectFunction', 'StationsTable')).not.toContain('dynamodb:GetItem');
    expect(actionsOn('DisconnectFunction', 'ConnectionsTable')).toEqual(expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:DeleteItem']));
    expect(actionsOn('StatusFunction', 'StatusQueue')).toEqual(
      expect.arrayContaining(['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility']),
    );
    expect(actionsOn('StatusFunction', 'StatusQueue')).not.toContain('sqs:SendMessage');
    // Declared connectors are read; undeclared components become anomalies (issue 10, item 9).
    expect(actionsOn('StatusFunction', 'StationsTable')).toEqual(['dynamodb:GetItem']);
    expect(actionsOn('StatusFunction', 'AnomaliesTable')).toEqual(['dynamodb:PutItem']);
  });

  test('charging: read versus write as listed', () => {
    const writes = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'];
    expect(actionsOn('MessageFunction', 'TokensTable')).toEqual(expect.arrayContaining(['dynamodb:GetItem']));
    for (const write of writes) expect(actionsOn('MessageFunction', 'TokensTable')).not.toContain(write);
    // UpdateItem: the atomic ADD on the transaction id counter; PutItem/GetItem: claims and trackers.
    expect(actionsOn('MessageFunction', 'TransactionsTable')).toEqual(
      expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:ConditionCheckItem']),
    );
    // Item 19 of issue 10: the hot path reads a station and records its boot, and only adds
    // anomalies; it never scans, deletes or rewrites whole stations.
    expect(actionsOn('MessageFunction', 'StationsTable').sort()).toEqual(['dynamodb:GetItem', 'dynamodb:UpdateItem']);
    expect(actionsOn('MessageFunction', 'AnomaliesTable')).toEqual(['dynamodb:PutItem']);
    expect(actionsOn('MessageFunction', 'SessionEventsQueue')).toContain('sqs:SendMessage');
    expect(actionsOn('MessageFunction', 'SessionEventsQueue')).not.toContain('sqs:ReceiveMessage');
    expect(actionsOn('SessionsFunction', 'SessionsTable')).toEqual(
      expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:UpdateItem']),
    );
    // The meter series: UpdateItem adds readings, Query pages them and finds the register at a stop.
    expect(actionsOn('SessionsFunction', 'MeterSeriesTable')).toEqual(
      expect.arrayContaining(['dynamodb:Query', 'dynamodb:UpdateItem']),
    );
    expect(actionsOn('SessionsFunction', 'SessionEventsQueue')).toEqual(
      expect.arrayContaining(['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility']),
    );
    expect(actionsOn('SessionsFunction', 'SessionEventsQueue')).not.toContain('sqs:SendMessage');
    expect(actionsOn('SessionsFunction', 'SessionCompletedQueue')).toContain('sqs:SendMessage');
    expect(actionsOn('SessionsFunction', 'SessionCompletedQueue')).not.toContain('sqs:ReceiveMessage');
    // The owner and organisation of a session are read, never written.
    for (const table of ['TokensTable', 'StationsTable']) {
      expect(actionsOn('SessionsFunction', table)).toContain('dynamodb:GetItem');
      for (const write of writes) expect(actionsOn('SessionsFunction', table)).not.toContain(write);
    }
  });

  test('api: writes stations, tokens, commands and organisations, only reads the rest, only sends commands', () => {
    const writes = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'];
    for (const table of ['StationsTable', 'TokensTable', 'CommandsTable', 'OrganisationsTable']) {
      expect(actionsOn('ApiFunction', table)).toEqual(expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:Query', ...writes]));
    }
    for (const table of ['ConnectionsTable', 'AvailabilityTable', 'StatusHistoryTable', 'SessionsTable', 'MeterSeriesTable']) {
      expect(actionsOn('ApiFunction', table)).toEqual(expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:Query']));
      for (const write of writes) expect(actionsOn('ApiFunction', table)).not.toContain(write);
    }
    expect(actionsOn('ApiFunction', 'CommandsQueue')).toContain('sqs:SendMessage');
    expect(actionsOn('ApiFunction', 'CommandsQueue')).not.toContain('sqs:ReceiveMessage');
    // Limits (issue 10, item 13): counts added, pending commands read and put conditionally.
    expect(actionsOn('ApiFunction', 'LimitsTable').sort()).toEqual(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem']);
    // Reads on StationsTable, TokensTable and SessionsTable cover their indexes (table/.../index/*):
    // ByGeoCell, ByOwner and the ByOrganisation ones.
    for (const table of ['StationsTable', 'TokensTable', 'SessionsTable']) {
      const tableStatements = (policyOf('ApiFunction').Properties.PolicyDocument.Statement as any[])
        .filter((s) => referencedIds(s.Resource).has(id(`${table}/Resource`)));
      expect(JSON.stringify(tableStatements)).toContain('/index/*');
    }
  });

  test('ManageConnections: only connect (closes replaced sockets), commands (sends CALLs) and api (closes decommissioned stations\' sockets: DELETE only), only on this stage\'s @connections', () => {
    const manage = statements.filter((s) => asList(s.Action).includes('execute-api:ManageConnections'));
    expect(manage).toHaveLength(3);
    for (const statement of manage) {
      const arn = JSON.stringify(statement.Resource);
      expect(arn).toContain(`{"Ref":"${id('WebSocketApi/Resource')}"}`);
      expect(arn).toMatch(/\/ocpp\/(\*|DELETE)\/@connections\/\*/);
    }
    // Only commands sends (POST); connect and api only close (DELETE).
    for (const fn of ['ConnectFunction', 'ApiFunction']) {
      const own = (policyOf(fn).Properties.PolicyDocument.Statement as any[])
        .filter((s) => asList(s.Action).includes('execute-api:ManageConnections'));
      expect(own).toHaveLength(1);
      expect(JSON.stringify(own[0].Resource)).toContain('/ocpp/DELETE/@connections/*');
      expect(JSON.stringify(own[0].Resource)).not.toContain('/ocpp/*/@connections');
    }
    expect(actionsOn('ApiFunction', 'WebSocketApi')).toEqual(['execute-api:ManageConnections']);
    const apiManage = (policyOf('ApiFunction').Properties.PolicyDocument.Statement as any[])
      .filter((s) => asList(s.Action).includes('execute-api:ManageConnections'));
    expect(JSON.stringify(apiManage)).toContain('/ocpp/DELETE/@connections/*');
    expect(actionsOn('ConnectFunction', 'WebSocketApi')).toEqual(['execute-api:ManageConnections']);
    expect(actionsOn('CommandsFunction', 'WebSocketApi')).toEqual(['execute-api:ManageConnections']);
  });
});

describe('reservation expiry', () => {
  const group = id('ReservationSchedules');
  const role = id('ReservationSchedulerRole/Resource');

  test('one schedule group, named by CloudFormation, handed to the function', () => {
    template.resourceCountIs('AWS::Scheduler::ScheduleGroup', 1);
    expect(resource(template, 'ReservationSchedules').Properties?.Name).toBeUndefined();
    const e = resource(template, 'ReservationsFunction/Resource').Properties.Environment.Variables;
    expect(e.RESERVATION_SCHEDULE_GROUP).toEqual({ Ref: group });
    expect(e.RESERVATION_SCHEDULER_ROLE_ARN).toEqual({ 'Fn::GetAtt': [role, 'Arn'] });
    expect(e.RESERVATION_EVENTS_QUEUE_ARN).toEqual({ 'Fn::GetAtt': [id('ReservationEventsQueue/Resource'), 'Arn'] });
    expect(e.RESERVATION_EXPIRY_DLQ_ARN).toEqual({ 'Fn::GetAtt': [id('ReservationExpiryDeadLetterQueue/Resource'), 'Arn'] });
  });

  test('the scheduler role: assumed by EventBridge Scheduler for this account\'s group only; sends only to the reservations queue and its own dead-letter queue', () => {
    const r = resource(template, 'ReservationSchedulerRole/Resource').Properties;
    const [trust] = r.AssumeRolePolicyDocument.Statement;
    expect(trust.Principal).toEqual({ Service: 'scheduler.amazonaws.com' });
    expect(trust.Condition.StringEquals).toEqual({ 'aws:SourceAccount': { Ref: 'AWS::AccountId' } });
    expect(JSON.stringify(trust.Condition.ArnLike)).toContain(`{"Ref":"${group}"}`);
    expect(r.ManagedPolicyArns).toBeUndefined();
    const policy = resource(template, 'ReservationSchedulerRole/DefaultPolicy/Resource').Properties.PolicyDocument;
    expect([...referencedIds(policy)].sort()).toEqual(
      [id('ReservationEventsQueue/Resource'), id('ReservationExpiryDeadLetterQueue/Resource')].sort(),
    );
    const actions = (policy.Statement as any[]).flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));
    expect(actions.every((a: string) => a.startsWith('sqs:Send') || a === 'sqs:GetQueueAttributes' || a === 'sqs:GetQueueUrl')).toBe(true);
  });

  test('the function creates and deletes schedules of its group only, and passes only the scheduler role, only to the scheduler', () => {
    const statements = policyOf('ReservationsFunction').Properties.PolicyDocument.Statement as any[];
    const schedules = statements.filter((s) => JSON.stringify(s.Action).includes('scheduler:'));
    expect(schedules).toHaveLength(1);
    expect(schedules[0].Action).toEqual(['scheduler:CreateSchedule', 'scheduler:DeleteSchedule']);
    expect(JSON.stringify(schedules[0].Resource)).toContain(`:schedule/",{"Ref":"${group}"},"/*"`);
    const pass = statements.filter((s) => JSON.stringify(s.Action).includes('iam:PassRole'));
    expect(pass).toEqual([
      expect.objectContaining({
        Action: 'iam:PassRole',
        Resource: { 'Fn::GetAtt': [role, 'Arn'] },
        Condition: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
      }),
    ]);
    // No other function touches the scheduler.
    for (const fn of FUNCTIONS.filter((f) => f !== 'ReservationsFunction')) {
      expect(JSON.stringify(policyOf(fn).Properties.PolicyDocument)).not.toMatch(/scheduler:|iam:PassRole/);
    }
  });

  test('the message, commands and api functions may send reservation signals, never receive them', () => {
    for (const fn of ['MessageFunction', 'CommandsFunction', 'ApiFunction']) {
      const onQueue = (policyOf(fn).Properties.PolicyDocument.Statement as any[])
        .filter((s) => referencedIds(s.Resource).has(id('ReservationEventsQueue/Resource')))
        .flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));
      expect(onQueue).toContain('sqs:SendMessage');
      expect(onQueue).not.toContain('sqs:ReceiveMessage');
    }
    // The message function only reads holds.
    const onTable = (policyOf('MessageFunction').Properties.PolicyDocument.Statement as any[])
      .filter((s) => referencedIds(s.Resource).has(id('ReservationsTable/Resource')))
      .flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));
    expect(onTable).toContain('dynamodb:GetItem');
    expect(onTable).not.toContain('dynamodb:PutItem');
  });

  test('reservation settings: 30 minutes and one per driver by default, from the settings file, checked', () => {
    const api = (t: Template) => resource(t, 'ApiFunction/Resource').Properties.Environment.Variables;
    expect(api(template).RESERVATION_MAX_MINUTES).toBe('30');
    expect(api(template).RESERVATION_ONE_PER_DRIVER).toBe('true');
    const set = synth({ reservationMaxMinutes: 90, reservationOnePerDriver: false });
    expect(api(set).RESERVATION_MAX_MINUTES).toBe('90');
    expect(api(set).RESERVATION_ONE_PER_DRIVER).toBe('false');
    for (const bad of [0, 1441, 'long', 2.5]) {
      expect(() => synth({ reservationMaxMinutes: bad })).toThrow(/reservationMaxMinutes/);
    }
    expect(() => synth({ reservationOnePerDriver: 'maybe' })).toThrow(/reservationOnePerDriver/);
  });
});

describe('WebSocket API', () => {
  const apiId = id('WebSocketApi/Resource');
  const routeKeys = () =>
    Object.values(resourcesOfType(template, 'AWS::ApiGatewayV2::Route'))
      .filter((r) => r.Properties.ApiId.Ref === apiId)
      .map((r) => r.Properties.RouteKey);

  test('the three routes, each a Lambda proxy integration of its function\'s live alias', () => {
    expect(routeKeys().sort()).toEqual(['$connect', '$default', '$disconnect']);
    const target: Record<string, string> = {
      '$connect-Route/ConnectIntegration': 'ConnectFunction',
      '$disconnect-Route/DisconnectIntegration': 'DisconnectFunction',
      '$default-Route/MessageIntegration': 'MessageFunction',
    };
    for (const [path, fn] of Object.entries(target)) {
      const integration = resource(template, `WebSocketApi/${path}/Resource`).Properties;
      // AWS_PROXY passes the $connect function's Sec-WebSocket-Protocol header to the handshake.
      expect(integration.IntegrationType).toBe('AWS_PROXY');
      expect(referencedIds(integration.IntegrationUri)).toEqual(new Set([id(`${fn}/Live/Resource`)]));
    }
  });

  test('$default returns the function\'s answer through a route response', () => {
    const routeId = id('WebSocketApi/$default-Route/Resource');
    expect(resource(template, 'WebSocketApi/$default-Route/Resource').Properties.RouteResponseSelectionExpression)
      .toBe('$default');
    template.hasResourceProperties('AWS::ApiGatewayV2::RouteResponse', {
      ApiId: { Ref: apiId },
      RouteId: { Ref: routeId },
      RouteResponseKey: '$default',
    });
  });

  test('no route has an authorizer: $connect\'s function authenticates (404 / 401)', () => {
    for (const route of Object.values(resourcesOfType(template, 'AWS::ApiGatewayV2::Route'))) {
      if (route.Properties.ApiId.Ref !== apiId) continue;
      expect(route.Properties.AuthorizationType ?? 'NONE').toBe('NONE');
    }
  });

  test('stage access logs: one JSON object per event, into a log group with retention', () => {
    const stage = resource(template, 'WebSocketStage/Resource').Properties;
    expect(stage.AccessLogSettings.DestinationArn).toEqual({ 'Fn::GetAtt': [id('WebSocketAccessLogs/Resource'), 'Arn'] });
    const format = JSON.parse(stage.AccessLogSettings.Format);
    expect(format).toEqual(expect.objectContaining({
      requestId: '$context.requestId',
      connectionId: '$context.connectionId',
      eventType: '$context.eventType',
      routeKey: '$context.routeKey',
      status: '$context.status',
    }));
    expect(resource(template, 'WebSocketAccessLogs/Resource').Properties.RetentionInDays).toBe(30);
    // The stage waits for API Gateway's account CloudWatch role, without which it cannot log.
    expect(resource(template, 'WebSocketStage/Resource')).toEqual(
      expect.objectContaining({ DependsOn: expect.arrayContaining([id('ApiGatewayAccount')]) }),
    );
  });

  test('stage ocpp, auto-deployed and throttled', () => {
    // This stage and the HTTP API's.
    template.resourceCountIs('AWS::ApiGatewayV2::Stage', 2);
    const stage = resource(template, 'WebSocketStage/Resource').Properties;
    expect(stage.StageName).toBe('ocpp');
    expect(stage.AutoDeploy).toBe(true);
    expect(stage.DefaultRouteSettings.ThrottlingRateLimit).toBeGreaterThan(0);
    expect(stage.DefaultRouteSettings.ThrottlingBurstLimit).toBeGreaterThan(0);
  });
});
