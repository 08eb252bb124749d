import { Aws, Duration, Stack } from 'aws-cdk-lib';
import * as budgets from 'aws-cdk-lib/aws-budgets';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { CsmsConfig } from './config';
import { skipCheckov } from './suppressions';

export interface MonitoredTable {
  readonly table: dynamodb.Table;
  /** Global secondary indexes, whose throttles count too. */
  readonly indexes: string[];
}

/** What is watched, by construct id (alarm ids and names are built from these). */
export interface Monitored {
  readonly functions: Record<string, lambda.IFunction>;
  readonly queues: Record<string, sqs.IQueue>;
  /** Queues a function consumes: their age is alarmed (an unconsumed queue only fills). */
  readonly consumedQueues: Set<string>;
  readonly deadLetterQueues: Record<string, sqs.IQueue>;
  readonly tables: Record<string, MonitoredTable>;
  readonly webSocket: { readonly apiId: string; readonly stageName: string };
  readonly http: { readonly apiId: string; readonly stageName: string };
}

export interface Monitoring {
  readonly topic: sns.Topic;
  readonly alarms: cloudwatch.Alarm[];
  /** Each function's error alarm, by construct id: the rollback trigger of its deployments. */
  readonly functionErrorAlarms: Record<string, cloudwatch.Alarm>;
  readonly dashboard: cloudwatch.Dashboard;
  readonly budget?: budgets.CfnBudget;
}

/** The function whose invocations count disconnects (one `$disconnect` each). */
export const DISCONNECT_FUNCTION = 'DisconnectFunction';

/**
 * How old the oldest message of a consumed queue may get (default 10 minutes). A command waits
 * legitimately behind its station's outstanding call for up to its timeout (15 minutes at most),
 * and a deadline check is delayed by up to 15 minutes.
 */
export const QUEUE_AGE_LIMITS: Record<string, Duration> = {
  CommandsQueue: Duration.minutes(20),
  CommandDeadlinesQueue: Duration.minutes(20),
};
const DEFAULT_QUEUE_AGE_LIMIT = Duration.minutes(10);

/**
 * Fleet alarm thresholds per 5 minutes, from the `fleetSize` setting. API Gateway ends every
 * socket within 2 hours, so a healthy fleet disconnects about fleetSize / 24 times in 5 minutes;
 * a quarter of the fleet is six times that. Refused handshakes (wrong password, unknown station)
 * are rare in a healthy fleet; half the fleet's worth in 5 minutes is a misconfigured batch of
 * piles or someone guessing.
 */
export function fleetThresholds(fleetSize: number): { disconnects: number; refusedHandshakes: number } {
  return {
    disconnects: Math.max(10, Math.ceil(fleetSize / 4)),
    refusedHandshakes: Math.max(20, Math.ceil(fleetSize / 2)),
  };
}

const FIVE_MINUTES = Duration.minutes(5);

function apiMetric(metricName: string, api: { apiId: string; stageName: string }, statistic: string): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: 'AWS/ApiGateway',
    metricName,
    dimensionsMap: { ApiId: api.apiId, Stage: api.stageName },
    statistic,
    period: FIVE_MINUTES,
  });
}

/**
 * Read and write throttle events of a table and its indexes, summed (0 when there are none).
 * `key` keeps the expression's metric ids unique where several share a dashboard widget.
 */
function throttleEvents(monitored: MonitoredTable, key: string): cloudwatch.MathExpression {
  const usingMetrics: Record<string, cloudwatch.IMetric> = {};
  const dimensions = [
    { TableName: monitored.table.tableName },
    ...monitored.indexes.map((index) => ({ TableName: monitored.table.tableName, GlobalSecondaryIndexName: index })),
  ];
  dimensions.forEach((dimensionsMap, i) => {
    for (const [kind, metricName] of [['r', 'ReadThrottleEvents'], ['w', 'WriteThrottleEvents']]) {
      usingMetrics[`${key}${kind}${i}`] = new cloudwatch.Metric({
        namespace: 'AWS/DynamoDB',
        metricName,
        dimensionsMap,
        statistic: 'Sum',
        period: FIVE_MINUTES,
      });
    }
  });
  return new cloudwatch.MathExpression({
    expression: Object.keys(usingMetrics).map((id) => `FILL(${id}, 0)`).join(' + '),
    usingMetrics,
    label: 'throttle events',
    period: FIVE_MINUTES,
  });
}

/**
 * Alarms to an SNS topic, and one dashboard.
 *
 * Every alarm notifies the topic when it fires and when it clears. Thresholds are "any" where the
 * thing should never happen in normal operation (a message in a dead-letter queue, a function
 * error or throttle, a 5xx, a DynamoDB throttle) and sustained slowness for latency.
 */
export function addMonitoring(stack: Stack, monitored: Monitored, config: CsmsConfig): Monitoring {
  const prefix = `csms-${config.environment}`;

  const topic = new sns.Topic(stack, 'AlarmTopic', {
    displayName: `CSMS ${config.environment} alarms`,
    enforceSSL: true,
  });
  // The topic policy that enforceSSL writes replaces SNS's default one, so CloudWatch alarms of
  // this account need their own allow.
  topic.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'AllowCloudWatchAlarms',
      principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
      actions: ['sns:Publish'],
      resources: [topic.topicArn],
      conditions: {
        ArnLike: { 'aws:SourceArn': `arn:${Aws.PARTITION}:cloudwatch:${Aws.REGION}:${Aws.ACCOUNT_ID}:alarm:*` },
        StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
      },
    }),
  );
  if (config.budget) {
    topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowBudgets',
        principals: [new iam.ServicePrincipal('budgets.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [topic.topicArn],
        conditions: {
          ArnLike: { 'aws:SourceArn': `arn:${Aws.PARTITION}:budgets::${Aws.ACCOUNT_ID}:*` },
          StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
        },
      }),
    );
  }
  skipCheckov(topic, {
    id: 'CKV_AWS_26',
    reason:
      'CloudWatch alarms cannot publish to a topic encrypted with the AWS-managed aws/sns key, and a customer-managed ' +
      'key costs $1/month for notifications that carry only alarm names and states, no data.',
  });
  if (config.alarmEmail) {
    topic.addSubscription(new subscriptions.EmailSubscription(config.alarmEmail));
  }

  const scope = new Construct(stack, 'Alarms');
  const alarms: cloudwatch.Alarm[] = [];
  const alarm = (id: string, description: string, props: Omit<cloudwatch.AlarmProps, 'alarmName' | 'alarmDescription'>) => {
    const created = new cloudwatch.Alarm(scope, id, {
      alarmName: `${prefix}-${id}`,
      alarmDescription: description,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      ...props,
    });
    created.addAlarmAction(new actions.SnsAction(topic));
    created.addOkAction(new actions.SnsAction(topic));
    alarms.push(created);
    return created;
  };
  const any = {
    threshold: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    evaluationPeriods: 1,
  };

  for (const [id, queue] of Object.entries(monitored.deadLetterQueues)) {
    alarm(`${id}Depth`, `Messages in ${id}: a consumer gave up on them; inspect and redrive (docs/deploy.md)`, {
      metric: queue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: 'Maximum' }),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
    });
  }

  const functionErrorAlarms: Record<string, cloudwatch.Alarm> = {};
  for (const [id, fn] of Object.entries(monitored.functions)) {
    // All versions together (the FunctionName dimension): during a gradual deployment an error of
    // either version stops the shift and rolls the alias back.
    functionErrorAlarms[id] = alarm(`${id}Errors`, `${id} failed invocations (a handler error, panic or timeout); rolls back a deployment in progress`, {
      metric: fn.metricErrors({ period: FIVE_MINUTES, statistic: 'Sum' }),
      ...any,
    });
    alarm(`${id}Throttles`, `${id} invocations throttled (account concurrency exhausted)`, {
      metric: fn.metricThrottles({ period: FIVE_MINUTES, statistic: 'Sum' }),
      ...any,
    });
  }

  // WebSocket API: ExecutionError counts integrations that failed to run (function error or
  // timeout): the WebSocket API's 5xx. IntegrationError is not alarmed: it also counts the 401 and
  // 404 that $connect answers to wrong passwords and unknown stations, which piles cause.
  alarm('WebSocketExecutionErrors', 'WebSocket API integrations that failed (the pile got no answer)', {
    metric: apiMetric('ExecutionError', monitored.webSocket, 'Sum'),
    ...any,
  });
  alarm('WebSocketLatency', 'WebSocket API p99 integration latency above 3 s for 15 minutes (piles time out CALLs at ~30 s)', {
    metric: apiMetric('IntegrationLatency', monitored.webSocket, 'p99'),
    threshold: 3000,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    evaluationPeriods: 3,
  });
  alarm('HttpApi5xx', 'App API answered 5xx', {
    metric: apiMetric('5xx', monitored.http, 'Sum'),
    ...any,
  });
  alarm('HttpApiLatency', 'App API p99 latency above 5 s for 15 minutes', {
    metric: apiMetric('Latency', monitored.http, 'p99'),
    threshold: 5000,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    evaluationPeriods: 3,
  });

  for (const [id, queue] of Object.entries(monitored.queues)) {
    if (!monitored.consumedQueues.has(id)) continue;
    const limit = QUEUE_AGE_LIMITS[id] ?? DEFAULT_QUEUE_AGE_LIMIT;
    alarm(`${id}Age`, `${id}: oldest message older than ${limit.toMinutes()} minutes for 10 minutes (its consumer is failing, throttled or behind)`, {
      metric: queue.metricApproximateAgeOfOldestMessage({ period: FIVE_MINUTES, statistic: 'Maximum' }),
      threshold: limit.toSeconds(),
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 2,
    });
  }

  // The fleet as a whole: many piles dropping at once (a network or API Gateway problem, a bad
  // release on the pile side), and a flood of refused handshakes.
  const thresholds = fleetThresholds(config.fleetSize);
  const disconnectFn = monitored.functions[DISCONNECT_FUNCTION];
  if (!disconnectFn) throw new Error(`monitoring: no ${DISCONNECT_FUNCTION} to count disconnects by`);
  alarm('FleetDisconnects', `At least ${thresholds.disconnects} piles disconnected within 5 minutes (fleetSize ${config.fleetSize}: a quarter of the fleet)`, {
    metric: disconnectFn.metricInvocations({ period: FIVE_MINUTES, statistic: 'Sum' }),
    threshold: thresholds.disconnects,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    evaluationPeriods: 1,
  });
  // IntegrationError on the WebSocket stage: the 401 (wrong password) and 404 (unknown station)
  // that $connect answers, and integrations that failed (those are alarmed above too).
  alarm('RefusedHandshakes', `At least ${thresholds.refusedHandshakes} handshakes refused within 5 minutes (fleetSize ${config.fleetSize}: half the fleet)`, {
    metric: apiMetric('IntegrationError', monitored.webSocket, 'Sum'),
    threshold: thresholds.refusedHandshakes,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    evaluationPeriods: 1,
  });

  Object.entries(monitored.tables).forEach(([id, monitoredTable], n) => {
    alarm(`${id}Throttles`, `${id}: reads or writes throttled (on-demand tables throttle past twice their previous peak)`, {
      metric: throttleEvents(monitoredTable, `t${n}`),
      ...any,
    });
  });

  const dashboard = new cloudwatch.Dashboard(stack, 'Dashboard', {
    dashboardName: prefix,
    defaultInterval: Duration.hours(3),
  });
  const fns = Object.entries(monitored.functions);
  const graph = (title: string, left: cloudwatch.IMetric[], width = 8) =>
    new cloudwatch.GraphWidget({ title, left, width, height: 6 });
  const labelled = (metric: cloudwatch.Metric, label: string) => metric.with({ label });
  dashboard.addWidgets(
    new cloudwatch.TextWidget({
      markdown: `# CSMS ${config.environment}\nPiles (WebSocket API behind CloudFront), the app API, functions, queues and tables. Alarms go to the SNS topic \`AlarmTopic\`.`,
      width: 24,
      height: 2,
    }),
  );
  dashboard.addWidgets(
    new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms, width: 24, height: 4 }),
  );
  dashboard.addWidgets(
    graph('Piles: connections and messages', [
      labelled(apiMetric('ConnectCount', monitored.webSocket, 'Sum'), 'connects'),
      labelled(apiMetric('MessageCount', monitored.webSocket, 'Sum'), 'messages'),
    ]),
    graph('Piles: errors', [
      labelled(apiMetric('ExecutionError', monitored.webSocket, 'Sum'), 'execution errors'),
      labelled(apiMetric('IntegrationError', monitored.webSocket, 'Sum'), 'integration 4xx/5xx (incl. refused handshakes)'),
      labelled(apiMetric('ClientError', monitored.webSocket, 'Sum'), 'client errors'),
    ]),
    graph('Piles: integration latency (ms)', [
      labelled(apiMetric('IntegrationLatency', monitored.webSocket, 'p50'), 'p50'),
      labelled(apiMetric('IntegrationLatency', monitored.webSocket, 'p99'), 'p99'),
    ]),
  );
  dashboard.addWidgets(
    graph('App API: requests', [
      labelled(apiMetric('Count', monitored.http, 'Sum'), 'requests'),
      labelled(apiMetric('4xx', monitored.http, 'Sum'), '4xx'),
      labelled(apiMetric('5xx', monitored.http, 'Sum'), '5xx'),
    ]),
    graph('App API: latency (ms)', [
      labelled(apiMetric('Latency', monitored.http, 'p50'), 'p50'),
      labelled(apiMetric('Latency', monitored.http, 'p99'), 'p99'),
    ]),
    graph(
      'Functions: concurrent executions',
      fns.map(([id, fn]) => fn.metric('ConcurrentExecutions', { statistic: 'Maximum', period: FIVE_MINUTES, label: id })),
    ),
  );
  dashboard.addWidgets(
    graph('Functions: invocations', fns.map(([id, fn]) => fn.metricInvocations({ statistic: 'Sum', period: FIVE_MINUTES, label: id }))),
    graph('Functions: errors and throttles', fns.flatMap(([id, fn]) => [
      fn.metricErrors({ statistic: 'Sum', period: FIVE_MINUTES, label: `${id} errors` }),
      fn.metricThrottles({ statistic: 'Sum', period: FIVE_MINUTES, label: `${id} throttles` }),
    ])),
    graph('Functions: p99 duration (ms)', fns.map(([id, fn]) => fn.metricDuration({ statistic: 'p99', period: FIVE_MINUTES, label: id }))),
  );
  dashboard.addWidgets(
    graph('Queues: messages waiting', Object.entries(monitored.queues).map(([id, q]) =>
      q.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period: FIVE_MINUTES, label: id }))),
    graph('Queues: age of oldest message (s)', Object.entries(monitored.queues).map(([id, q]) =>
      q.metricApproximateAgeOfOldestMessage({ statistic: 'Maximum', period: FIVE_MINUTES, label: id }))),
    graph('Dead-letter queues: depth', Object.entries(monitored.deadLetterQueues).map(([id, q]) =>
      q.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period: FIVE_MINUTES, label: id }))),
  );
  const tables = Object.entries(monitored.tables);
  dashboard.addWidgets(
    graph('DynamoDB: consumed read units', tables.map(([id, t]) =>
      t.table.metricConsumedReadCapacityUnits({ statistic: 'Sum', period: FIVE_MINUTES, label: id }))),
    graph('DynamoDB: consumed write units', tables.map(([id, t]) =>
      t.table.metricConsumedWriteCapacityUnits({ statistic: 'Sum', period: FIVE_MINUTES, label: id }))),
    graph('DynamoDB: throttle events', tables.map(([id, t], n) => throttleEvents(t, `t${n}`).with({ label: id }))),
  );

  const budget = config.budget ? addBudget(stack, topic, config) : undefined;
  return { topic, alarms, functionErrorAlarms, dashboard, budget };
}

/**
 * An AWS Budgets budget on the month's cost: the alarm topic hears when the actual cost passes
 * 80 % of `monthlyBudgetUsd` and when the forecast passes 100 %. With budgetScope "environment"
 * only costs tagged Environment=<env> count, which needs the tag activated for cost allocation
 * (Billing console, once per account; docs/deploy.md).
 */
function addBudget(stack: Stack, topic: sns.Topic, config: CsmsConfig): budgets.CfnBudget {
  const { monthlyUsd, scope } = config.budget!;
  const notify = (notificationType: 'ACTUAL' | 'FORECASTED', threshold: number) => ({
    notification: { notificationType, comparisonOperator: 'GREATER_THAN', threshold, thresholdType: 'PERCENTAGE' },
    subscribers: [{ subscriptionType: 'SNS', address: topic.topicArn }],
  });
  const budget = new budgets.CfnBudget(stack, 'Budget', {
    budget: {
      budgetName: `csms-${config.environment}`,
      budgetType: 'COST',
      timeUnit: 'MONTHLY',
      budgetLimit: { amount: monthlyUsd, unit: 'USD' },
      costFilters: scope === 'environment' ? { TagKeyValue: [`user:Environment$${config.environment}`] } : undefined,
    },
    notificationsWithSubscribers: [notify('ACTUAL', 80), notify('FORECASTED', 100)],
  });
  // Budgets publishes only once the topic policy allows it.
  const policy = topic.node.tryFindChild('Policy');
  if (policy) budget.node.addDependency(policy);
  return budget;
}
