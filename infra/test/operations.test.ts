import * as fs from 'fs';
import * as path from 'path';
import { Template } from 'aws-cdk-lib/assertions';
import { fleetThresholds } from '../lib/monitoring';
import { CONSUMED_QUEUES, DEAD_LETTER_QUEUES, FUNCTIONS, TABLE_IDS, logicalId, resource, resourcesOfType, synth } from './template';

const template: Template = synth();
const id = (p: string) => logicalId(template, p);
const alarm = (name: string) => resource(template, `Alarms/${name}/Resource`).Properties;
const topicRef = () => ({ Ref: id('AlarmTopic/Resource') });

describe('alarm topic', () => {
  test('one SNS topic, TLS only, CloudWatch alarms of this account may publish', () => {
    template.resourceCountIs('AWS::SNS::Topic', 1);
    const [policy] = Object.values(resourcesOfType(template, 'AWS::SNS::TopicPolicy'));
    const statements = policy.Properties.PolicyDocument.Statement as any[];
    expect(statements).toEqual(expect.arrayContaining([
      expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
      expect.objectContaining({
        Effect: 'Allow',
        Principal: { Service: 'cloudwatch.amazonaws.com' },
        Action: 'sns:Publish',
        Condition: expect.objectContaining({ StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } }),
      }),
    ]));
  });

  test('no email subscription unless alarmEmail is given', () => {
    template.resourceCountIs('AWS::SNS::Subscription', 0);
    const t = synth({ alarmEmail: 'oncall@example.com' });
    t.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'oncall@example.com',
      TopicArn: { Ref: logicalId(t, 'AlarmTopic/Resource') },
    });
    expect(() => synth({ alarmEmail: 'not-an-address' })).toThrow(/alarmEmail/);
  });
});

describe('alarms', () => {
  test('every alarm notifies the topic when it fires and when it clears, and is named for its environment', () => {
    const alarms = Object.values(resourcesOfType(template, 'AWS::CloudWatch::Alarm'));
    // Dead-letter queues, functions (errors, throttles), the two APIs (5xx, latency), tables, the
    // age of each consumed queue, and the fleet (disconnects, refused handshakes).
    expect(alarms.length).toBe(DEAD_LETTER_QUEUES.length + 2 * FUNCTIONS.length + 4 + TABLE_IDS.length + CONSUMED_QUEUES.length + 2);
    for (const a of alarms) {
      expect(a.Properties.AlarmActions).toEqual([topicRef()]);
      expect(a.Properties.OKActions).toEqual([topicRef()]);
      expect(a.Properties.AlarmName).toMatch(/^csms-dev-/);
      expect(a.Properties.TreatMissingData).toBe('notBreaching');
      expect(a.Properties.AlarmDescription).toBeTruthy();
    }
    const prod = synth({ environment: 'prod' });
    for (const a of Object.values(resourcesOfType(prod, 'AWS::CloudWatch::Alarm'))) {
      expect(a.Properties.AlarmName).toMatch(/^csms-prod-/);
    }
  });

  test.each(DEAD_LETTER_QUEUES)('%s: depth above 0', (dlq) => {
    const a = alarm(`${dlq}Depth`);
    expect(a.Namespace).toBe('AWS/SQS');
    expect(a.MetricName).toBe('ApproximateNumberOfMessagesVisible');
    expect(a.Dimensions).toEqual([{ Name: 'QueueName', Value: { 'Fn::GetAtt': [id(`${dlq}/Resource`), 'QueueName'] } }]);
    expect(a.ComparisonOperator).toBe('GreaterThanThreshold');
    expect(a.Threshold).toBe(0);
  });

  test.each(FUNCTIONS)('%s: any error, any throttle', (fn) => {
    for (const [suffix, metric] of [['Errors', 'Errors'], ['Throttles', 'Throttles']]) {
      const a = alarm(`${fn}${suffix}`);
      expect(a.Namespace).toBe('AWS/Lambda');
      expect(a.MetricName).toBe(metric);
      expect(a.Dimensions).toEqual([{ Name: 'FunctionName', Value: { Ref: id(`${fn}/Resource`) } }]);
      expect(a.Statistic).toBe('Sum');
      expect(a.ComparisonOperator).toBe('GreaterThanOrEqualToThreshold');
      expect(a.Threshold).toBe(1);
    }
  });

  test('WebSocket API: execution errors (its 5xx) and p99 integration latency, on the ocpp stage', () => {
    const dims = [
      { Name: 'ApiId', Value: { Ref: id('WebSocketApi/Resource') } },
      { Name: 'Stage', Value: 'ocpp' },
    ];
    expect(alarm('WebSocketExecutionErrors')).toEqual(expect.objectContaining({
      Namespace: 'AWS/ApiGateway', MetricName: 'ExecutionError', Dimensions: dims, Threshold: 1,
    }));
    expect(alarm('WebSocketLatency')).toEqual(expect.objectContaining({
      Namespace: 'AWS/ApiGateway', MetricName: 'IntegrationLatency', Dimensions: dims, ExtendedStatistic: 'p99',
    }));
  });

  test('HTTP API: 5xx and p99 latency, on the $default stage', () => {
    const dims = [
      { Name: 'ApiId', Value: { Ref: id('HttpApi/Resource') } },
      { Name: 'Stage', Value: '$default' },
    ];
    expect(alarm('HttpApi5xx')).toEqual(expect.objectContaining({ Namespace: 'AWS/ApiGateway', MetricName: '5xx', Dimensions: dims }));
    expect(alarm('HttpApiLatency')).toEqual(expect.objectContaining({
      Namespace: 'AWS/ApiGateway', MetricName: 'Latency', Dimensions: dims, ExtendedStatistic: 'p99',
    }));
  });

  test.each(TABLE_IDS)('%s: read and write throttle events (of its indexes too)', (table) => {
    const a = alarm(`${table}Throttles`);
    const metrics = (a.Metrics as any[]).filter((m) => m.MetricStat);
    const names = metrics.map((m) => m.MetricStat.Metric.MetricName).sort();
    // The table itself, and each of its indexes (StationsTable: ByGeoCell, ByOrganisation; TokensTable:
    // ByOwner; SessionsTable: ByOwner, ByOrganisation; OrganisationsTable: ByOrganisation;
    // ReservationsTable: ByDriver, ByOrganisation).
    const indexes = ['StationsTable', 'SessionsTable', 'ReservationsTable'].includes(table)
      ? 3
      : ['TokensTable', 'OrganisationsTable'].includes(table) ? 2 : 1;
    expect(names).toEqual([...Array(indexes).fill('ReadThrottleEvents'), ...Array(indexes).fill('WriteThrottleEvents')].sort());
    for (const m of metrics) {
      expect(m.MetricStat.Metric.Namespace).toBe('AWS/DynamoDB');
      expect(m.MetricStat.Metric.Dimensions).toEqual(expect.arrayContaining([
        { Name: 'TableName', Value: { Ref: id(`${table}/Resource`) } },
      ]));
    }
    if (table === 'StationsTable') {
      expect(JSON.stringify(metrics)).toContain('"GlobalSecondaryIndexName","Value":"ByGeoCell"');
      expect(JSON.stringify(metrics)).toContain('"GlobalSecondaryIndexName","Value":"ByOrganisation"');
    }
    if (table === 'SessionsTable') {
      expect(JSON.stringify(metrics)).toContain('"GlobalSecondaryIndexName","Value":"ByOwner"');
      expect(JSON.stringify(metrics)).toContain('"GlobalSecondaryIndexName","Value":"ByOrganisation"');
    }
    if (table === 'ReservationsTable') {
      expect(JSON.stringify(metrics)).toContain('"GlobalSecondaryIndexName","Value":"ByDriver"');
      expect(JSON.stringify(metrics)).toContain('"GlobalSecondaryIndexName","Value":"ByOrganisation"');
    }
    if (table === 'TokensTable') {
      expect(JSON.stringify(metrics)).toContain('"GlobalSecondaryIndexName","Value":"ByOwner"');
    }
    const [expression] = (a.Metrics as any[]).filter((m) => m.Expression);
    expect(expression.ReturnData ?? true).toBe(true);
    expect(a.Threshold).toBe(1);
  });
});

describe('dashboard', () => {
  test('one dashboard named for the environment, showing every function, queue and table', () => {
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    const d = resource(template, 'Dashboard/Resource').Properties;
    expect(d.DashboardName).toBe('csms-dev');
    const body = JSON.stringify(d.DashboardBody);
    for (const fn of FUNCTIONS) expect(body).toContain(id(`${fn}/Resource`));
    for (const table of TABLE_IDS) expect(body).toContain(id(`${table}/Resource`));
    for (const dlq of DEAD_LETTER_QUEUES) expect(body).toContain(id(`${dlq}/Resource`));
    template.hasOutput('DashboardName', {});
    template.hasOutput('AlarmTopicArn', { Value: topicRef() });
  });
});

describe('environment and outputs', () => {
  test('tags every taggable resource with the project and the environment', () => {
    const prod = synth({ environment: 'prod' });
    const tagged = [
      resource(prod, 'StationsTable/Resource').Properties.Tags,
      resource(prod, 'ConnectFunction/Resource').Properties.Tags,
      resource(prod, 'StatusQueue/Resource').Properties.Tags,
    ];
    for (const tags of tagged) {
      expect(tags).toEqual(expect.arrayContaining([
        { Key: 'Environment', Value: 'prod' },
        { Key: 'Project', Value: 'csms' },
      ]));
    }
    expect(resource(prod, 'UserPool/Resource').Properties.UserPoolName).toBe('csms-prod');
    expect(resource(prod, 'Dashboard/Resource').Properties.DashboardName).toBe('csms-prod');
    expect(() => synth({ environment: 'Prod' })).toThrow(/environment/);
    expect(() => synth({ environment: 'a'.repeat(17) })).toThrow(/environment/);
  });

  test('outputs: the two doors, the user pool, the commands queue, and every table name for csms-registry', () => {
    for (const output of ['OcppUrl', 'ApiUrl', 'UserPoolId', 'AppClientId', 'IssuerUrl', 'CommandsQueueUrl']) {
      template.hasOutput(output, {});
    }
    template.hasOutput('CommandsQueueUrl', { Value: { Ref: id('CommandsQueue/Resource') } });
    for (const table of TABLE_IDS) {
      template.hasOutput(`${table}Name`, { Value: { Ref: id(`${table}/Resource`) } });
    }
  });

  test('log retention from context', () => {
    const t = synth({ logRetentionDays: '365' });
    for (const group of Object.values(resourcesOfType(t, 'AWS::Logs::LogGroup'))) {
      expect(group.Properties.RetentionInDays).toBe(365);
    }
    expect(() => synth({ logRetentionDays: '31' })).toThrow(/logRetentionDays/);
  });

  test('no schedule: command deadlines are per-command delayed SQS messages, not a periodic scan', () => {
    template.resourceCountIs('AWS::Events::Rule', 0);
    template.resourceCountIs('AWS::Scheduler::Schedule', 0);
  });
});

describe('lint suppressions', () => {
  const all = Object.entries(template.toJSON().Resources as Record<string, any>);

  test('every checkov skip names a check and says why', () => {
    const skips = all.flatMap(([, r]) => (r.Metadata?.checkov?.skip ?? []) as Array<{ id: string; comment: string }>);
    expect(skips.length).toBeGreaterThan(0);
    for (const skip of skips) {
      expect(skip.id).toMatch(/^CKV2?_AWS_\d+$/);
      expect(skip.comment.length).toBeGreaterThan(40);
    }
  });

  test('cfn-lint ignores only the W3005 that aws-cdk-lib writes into every function', () => {
    for (const [, r] of all) {
      const ignored = r.Metadata?.['cfn-lint']?.config?.ignore_checks;
      if (!ignored) continue;
      expect(r.Type).toBe('AWS::Lambda::Function');
      expect(ignored).toEqual(['W3005']);
    }
  });
});

describe('build', () => {
  const root = path.join(__dirname, '..', '..');

  test('build-functions.sh builds exactly the binaries the stack deploys: one per functions/ crate', () => {
    const stack = fs.readFileSync(path.join(__dirname, '..', 'lib', 'csms-stack.ts'), 'utf8');
    const deployed = [...stack.matchAll(/rustFunction\('(\w+)', '([\w-]+)'/g)].map((m) => m[2]).sort();
    expect(deployed).toHaveLength(FUNCTIONS.length);
    const crates = fs.readdirSync(path.join(root, 'functions'))
      .filter((d) => fs.existsSync(path.join(root, 'functions', d, 'Cargo.toml')))
      .sort();
    expect(deployed).toEqual(crates);
  });

  test('the build and lint toolchains are pinned', () => {
    for (const file of ['requirements-build.txt', 'requirements-lint.txt']) {
      const lines = fs.readFileSync(path.join(__dirname, '..', file), 'utf8')
        .split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
      expect(lines.length).toBeGreaterThan(0);
      for (const line of lines) expect(line).toMatch(/^[A-Za-z0-9_.-]+==[A-Za-z0-9_.+-]+$/);
    }
  });
});

describe('fleet and queue alarms', () => {
  test('FleetDisconnects: DisconnectFunction invocations in 5 minutes, a quarter of fleetSize (at least 10)', () => {
    const a = alarm('FleetDisconnects');
    expect(a).toEqual(expect.objectContaining({
      Namespace: 'AWS/Lambda', MetricName: 'Invocations', Statistic: 'Sum', Period: 300, Threshold: 25,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: id('DisconnectFunction/Resource') } }],
    }));
    const big = synth({ fleetSize: 10000 });
    expect(resource(big, 'Alarms/FleetDisconnects/Resource').Properties.Threshold).toBe(2500);
    expect(resource(big, 'Alarms/RefusedHandshakes/Resource').Properties.Threshold).toBe(5000);
    expect(fleetThresholds(8)).toEqual({ disconnects: 10, refusedHandshakes: 20 });
    expect(fleetThresholds(1000)).toEqual({ disconnects: 250, refusedHandshakes: 500 });
  });

  test('RefusedHandshakes: WebSocket integration errors (the 401s and 404s of $connect), half of fleetSize (at least 20)', () => {
    expect(alarm('RefusedHandshakes')).toEqual(expect.objectContaining({
      Namespace: 'AWS/ApiGateway', MetricName: 'IntegrationError', Statistic: 'Sum', Threshold: 50,
      Dimensions: [{ Name: 'ApiId', Value: { Ref: id('WebSocketApi/Resource') } }, { Name: 'Stage', Value: 'ocpp' }],
    }));
  });

  test.each(CONSUMED_QUEUES)('%s: age of the oldest message', (queue) => {
    const a = alarm(`${queue}Age`);
    expect(a).toEqual(expect.objectContaining({
      Namespace: 'AWS/SQS', MetricName: 'ApproximateAgeOfOldestMessage', Statistic: 'Maximum', EvaluationPeriods: 2,
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [id(`${queue}/Resource`), 'QueueName'] } }],
    }));
    // Commands wait legitimately behind a busy station, deadline checks are delayed: 15 minutes at most.
    expect(a.Threshold).toBe(queue.startsWith('Command') ? 1200 : 600);
  });

  test('no age alarm on a queue nothing consumes yet (SessionCompletedQueue waits for billing)', () => {
    const ids = Object.values(resourcesOfType(template, 'AWS::CloudWatch::Alarm')).map((a) => a.Properties.AlarmName);
    expect(ids).not.toContain('csms-dev-SessionCompletedQueueAge');
  });
});

describe('budget', () => {
  test('none unless monthlyBudgetUsd is set', () => {
    template.resourceCountIs('AWS::Budgets::Budget', 0);
  });

  test('monthly cost of the environment\'s tagged resources; the alarm topic hears 80 % actual and 100 % forecast', () => {
    const t = synth({ monthlyBudgetUsd: 250, environment: 'prod' });
    const b = resource(t, 'Budget').Properties;
    expect(b.Budget).toEqual({
      BudgetName: 'csms-prod',
      BudgetType: 'COST',
      TimeUnit: 'MONTHLY',
      BudgetLimit: { Amount: 250, Unit: 'USD' },
      CostFilters: { TagKeyValue: ['user:Environment$prod'] },
    });
    const topic = { Ref: logicalId(t, 'AlarmTopic/Resource') };
    expect(b.NotificationsWithSubscribers).toEqual([
      {
        Notification: { NotificationType: 'ACTUAL', ComparisonOperator: 'GREATER_THAN', Threshold: 80, ThresholdType: 'PERCENTAGE' },
        Subscribers: [{ SubscriptionType: 'SNS', Address: topic }],
      },
      {
        Notification: { NotificationType: 'FORECASTED', ComparisonOperator: 'GREATER_THAN', Threshold: 100, ThresholdType: 'PERCENTAGE' },
        Subscribers: [{ SubscriptionType: 'SNS', Address: topic }],
      },
    ]);
    const [policy] = Object.values(resourcesOfType(t, 'AWS::SNS::TopicPolicy'));
    expect(policy.Properties.PolicyDocument.Statement).toEqual(expect.arrayContaining([
      expect.objectContaining({ Sid: 'AllowBudgets', Principal: { Service: 'budgets.amazonaws.com' }, Action: 'sns:Publish' }),
    ]));
    const account = synth({ monthlyBudgetUsd: 250, budgetScope: 'account' });
    expect(resource(account, 'Budget').Properties.Budget.CostFilters).toBeUndefined();
  });
});
