import { Template } from 'aws-cdk-lib/assertions';
import { logicalId, resource, synth } from './template';

const template: Template = synth();

// [construct id, partition key, sort key, TTL attribute]
const TABLES: Array<[string, string, string | undefined, string | undefined]> = [
  ['StationsTable', 'stationId', undefined, undefined],
  ['ConnectionsTable', 'connectionId', undefined, 'expiresAt'],
  ['AvailabilityTable', 'stationId', 'component', undefined],
  ['StatusHistoryTable', 'stationId', 'entry', 'expiresAt'],
  ['StationEventsTable', 'stationId', 'entry', 'expiresAt'],
];

describe('tables', () => {
  test('exactly the five tables of the contract', () => {
    template.resourceCountIs('AWS::DynamoDB::Table', TABLES.length);
  });

  test.each(TABLES)('%s: keys, on-demand, PITR, AWS-managed SSE, TTL, generated name', (id, pk, sk, ttl) => {
    const table = resource(template, `${id}/Resource`);
    expect(table.Type).toBe('AWS::DynamoDB::Table');
    const p = table.Properties;

    const keySchema = [{ AttributeName: pk, KeyType: 'HASH' }];
    if (sk) keySchema.push({ AttributeName: sk, KeyType: 'RANGE' });
    expect(p.KeySchema).toEqual(keySchema);
    expect(p.AttributeDefinitions).toEqual(
      [pk, sk].filter(Boolean).map((name) => ({ AttributeName: name, AttributeType: 'S' })),
    );

    expect(p.BillingMode).toBe('PAY_PER_REQUEST');
    expect(p.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
    // SSEEnabled without a key id = KMS with the AWS-managed key (aws/dynamodb).
    expect(p.SSESpecification).toEqual({ SSEEnabled: true });
    if (ttl) {
      expect(p.TimeToLiveSpecification).toEqual({ AttributeName: ttl, Enabled: true });
    } else {
      expect(p.TimeToLiveSpecification).toBeUndefined();
    }
    expect(p.TableName).toBeUndefined();
    expect(table.DeletionPolicy).toBe('Retain');
  });

  test('removalPolicy=destroy from context', () => {
    const t = synth({ removalPolicy: 'destroy' });
    for (const [id] of TABLES) {
      expect(resource(t, `${id}/Resource`).DeletionPolicy).toBe('Delete');
    }
  });

  test('an unknown removalPolicy is refused', () => {
    expect(() => synth({ removalPolicy: 'snapshot' })).toThrow(/removalPolicy/);
  });
});

describe('status queue', () => {
  const queue = resource(template, 'StatusQueue/Resource');
  const dlqId = logicalId(template, 'StatusDeadLetterQueue/Resource');
  const statusFn = resource(template, 'StatusFunction/Resource');

  test('is FIFO, no content-based dedup, SSE', () => {
    expect(queue.Type).toBe('AWS::SQS::Queue');
    expect(queue.Properties.FifoQueue).toBe(true);
    expect(queue.Properties.ContentBasedDeduplication).not.toBe(true);
    expect(queue.Properties.SqsManagedSseEnabled).toBe(true);
    expect(queue.Properties.QueueName).toBeUndefined();
  });

  test('dead-letters to the FIFO StatusDeadLetterQueue after at least 5 receives', () => {
    expect(queue.Properties.RedrivePolicy.deadLetterTargetArn).toEqual({ 'Fn::GetAtt': [dlqId, 'Arn'] });
    expect(queue.Properties.RedrivePolicy.maxReceiveCount).toBeGreaterThanOrEqual(5);
    const dlq = resource(template, 'StatusDeadLetterQueue/Resource');
    expect(dlq.Properties.FifoQueue).toBe(true);
    expect(dlq.Properties.SqsManagedSseEnabled).toBe(true);
  });

  test('visibility timeout is at least 6x the consumer timeout', () => {
    expect(statusFn.Properties.Timeout).toBeGreaterThan(0);
    expect(queue.Properties.VisibilityTimeout).toBeGreaterThanOrEqual(6 * statusFn.Properties.Timeout);
  });

  test('StatusFunction consumes it in batches of 10, reporting batch item failures', () => {
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 1);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [logicalId(template, 'StatusQueue/Resource'), 'Arn'] },
      FunctionName: { Ref: logicalId(template, 'StatusFunction/Resource') },
      BatchSize: 10,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });
});
