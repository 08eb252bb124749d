import { Template } from 'aws-cdk-lib/assertions';
import { liveAliasName, logicalId, resource, resourcesOfType, synth } from './template';

const template: Template = synth();

// [construct id, partition key, sort key, TTL attribute]
const TABLES: Array<[string, string, string | undefined, string | undefined]> = [
  ['StationsTable', 'stationId', undefined, undefined],
  ['ConnectionsTable', 'connectionId', undefined, 'expiresAt'],
  ['AvailabilityTable', 'stationId', 'component', undefined],
  ['StatusHistoryTable', 'stationId', 'entry', 'expiresAt'],
  ['StationEventsTable', 'stationId', 'entry', 'expiresAt'],
  ['TokensTable', 'pk', 'sk', 'expiresAt'],
  ['TransactionsTable', 'pk', undefined, 'expiresAt'],
  ['AnomaliesTable', 'stationId', 'entry', 'expiresAt'],
  ['SessionsTable', 'stationId', 'transaction', undefined],
  ['MeterSeriesTable', 'session', 'at', undefined],
  ['CommandsTable', 'stationId', 'entry', 'expiresAt'],
  ['OrganisationsTable', 'pk', 'sk', undefined],
  ['LimitsTable', 'pk', undefined, 'expiresAt'],
  ['ReservationsTable', 'pk', 'sk', 'expiresAt'],
];

describe('tables', () => {
  test('exactly the tables of the contract', () => {
    template.resourceCountIs('AWS::DynamoDB::Table', TABLES.length);
  });

  test.each(TABLES)('%s: keys, on-demand, PITR, AWS-managed SSE, TTL, generated name', (id, pk, sk, ttl) => {
    const table = resource(template, `${id}/Resource`);
    expect(table.Type).toBe('AWS::DynamoDB::Table');
    const p = table.Properties;

    const keySchema = [{ AttributeName: pk, KeyType: 'HASH' }];
    if (sk) keySchema.push({ AttributeName: sk, KeyType: 'RANGE' });
    expect(p.KeySchema).toEqual(keySchema);
    // The table's keys, and the keys of its indexes.
    const indexKeys: Record<string, string[]> = {
      StationsTable: ['geoCell', 'geohash', 'organisation'],
      TokensTable: ['owner', 'idToken'],
      SessionsTable: ['owner', 'startedAt', 'organisation'],
      OrganisationsTable: ['organisation', 'subject'],
      ReservationsTable: ['driver', 'createdAt', 'organisation'],
    };
    expect(p.AttributeDefinitions).toEqual(
      [pk, sk, ...(indexKeys[id] ?? [])].filter(Boolean).map((name) => ({ AttributeName: name, AttributeType: 'S' })),
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
    // Kept once created, removed when its own creation is rolled back (lib/data-protection.ts).
    expect(table.DeletionPolicy).toBe('RetainExceptOnCreate');
    expect((table as any).UpdateReplacePolicy).toBe('Retain');
    // Off by default: a protected table would stop the rollback of a failed first deploy.
    expect(p.DeletionProtectionEnabled).toBe(false);
  });

  test('StationsTable: the ByGeoCell index (geohash cell, geohash; the location) and ByOrganisation (organisation, station id; all)', () => {
    const p = resource(template, 'StationsTable/Resource').Properties;
    expect(p.GlobalSecondaryIndexes).toEqual([
      {
        IndexName: 'ByGeoCell',
        KeySchema: [
          { AttributeName: 'geoCell', KeyType: 'HASH' },
          { AttributeName: 'geohash', KeyType: 'RANGE' },
        ],
        // The Stations adapter's names for the location (shared/aws/src/dynamo.rs).
        Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: ['latitude', 'longitude'] },
      },
      {
        IndexName: 'ByOrganisation',
        KeySchema: [
          { AttributeName: 'organisation', KeyType: 'HASH' },
          { AttributeName: 'stationId', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      },
    ]);
    expect(p.AttributeDefinitions).toEqual(expect.arrayContaining([{ AttributeName: 'organisation', AttributeType: 'S' }]));
    const indexed = ['StationsTable', 'TokensTable', 'SessionsTable', 'OrganisationsTable', 'ReservationsTable'];
    for (const [id] of TABLES.filter(([id]) => !indexed.includes(id))) {
      expect(resource(template, `${id}/Resource`).Properties.GlobalSecondaryIndexes).toBeUndefined();
    }
  });

  test('TokensTable: ByOwner (a driver\'s tokens), keyed with the id token, all attributes; an organisation\'s tokens are a partition of the table', () => {
    expect(resource(template, 'TokensTable/Resource').Properties.GlobalSecondaryIndexes).toEqual([
      {
        IndexName: 'ByOwner',
        KeySchema: [
          { AttributeName: 'owner', KeyType: 'HASH' },
          { AttributeName: 'idToken', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      },
    ]);
  });

  test('SessionsTable: ByOwner and ByOrganisation, sorted by start time, projecting only the summary', () => {
    const index = (name: string, partition: string) => ({
      IndexName: name,
      KeySchema: [
        { AttributeName: partition, KeyType: 'HASH' },
        { AttributeName: 'startedAt', KeyType: 'RANGE' },
      ],
      // The Sessions adapter's names (shared/aws/src/charging.rs); never the record and its series.
      Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: ['summary', 'completed'] },
    });
    expect(resource(template, 'SessionsTable/Resource').Properties.GlobalSecondaryIndexes).toEqual([
      index('ByOwner', 'owner'),
      index('ByOrganisation', 'organisation'),
    ]);
  });

  test('OrganisationsTable: the sparse ByOrganisation index (an organisation\'s operators), all attributes', () => {
    expect(resource(template, 'OrganisationsTable/Resource').Properties.GlobalSecondaryIndexes).toEqual([
      {
        IndexName: 'ByOrganisation',
        KeySchema: [
          { AttributeName: 'organisation', KeyType: 'HASH' },
          { AttributeName: 'subject', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      },
    ]);
  });

  test('ReservationsTable: ByDriver and ByOrganisation, newest first by creation, all attributes', () => {
    const index = (name: string, partition: string) => ({
      IndexName: name,
      KeySchema: [
        { AttributeName: partition, KeyType: 'HASH' },
        { AttributeName: 'createdAt', KeyType: 'RANGE' },
      ],
      Projection: { ProjectionType: 'ALL' },
    });
    expect(resource(template, 'ReservationsTable/Resource').Properties.GlobalSecondaryIndexes).toEqual([
      index('ByDriver', 'driver'),
      index('ByOrganisation', 'organisation'),
    ]);
  });

  test('deletion protection only when set, whatever the removal policy', () => {
    const protectedWhenDestroyed = synth({ removalPolicy: 'destroy', deletionProtection: true });
    const destroyable = synth({ removalPolicy: 'destroy' });
    const protectedAndKept = synth({ deletionProtection: true });
    for (const [id] of TABLES) {
      expect(resource(destroyable, `${id}/Resource`).Properties.DeletionProtectionEnabled).toBe(false);
      expect(resource(protectedWhenDestroyed, `${id}/Resource`).Properties.DeletionProtectionEnabled).toBe(true);
      expect(resource(protectedAndKept, `${id}/Resource`).Properties.DeletionProtectionEnabled).toBe(true);
      expect(resource(protectedAndKept, `${id}/Resource`).DeletionPolicy).toBe('RetainExceptOnCreate');
    }
    expect(() => synth({ deletionProtection: 'maybe' })).toThrow(/deletionProtection/);
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

// [queue, dead-letter queue, consuming function (none yet for SessionCompletedQueue), FIFO,
// receives before dead-lettering, content-based deduplication]
const QUEUES: Array<[string, string, string | undefined, boolean, number, boolean]> = [
  ['StatusQueue', 'StatusDeadLetterQueue', 'StatusFunction', true, 5, false],
  ['SessionEventsQueue', 'SessionEventsDeadLetterQueue', 'SessionsFunction', true, 5, false],
  ['SessionCompletedQueue', 'SessionCompletedDeadLetterQueue', undefined, true, 5, false],
  // A busy station's command is handed back up to ~35 times within the 15 min command timeout.
  ['CommandsQueue', 'CommandsDeadLetterQueue', 'CommandsFunction', true, 60, false],
  // Standard: only standard queues delay single messages.
  ['CommandDeadlinesQueue', 'CommandDeadlinesDeadLetterQueue', 'CommandsFunction', false, 5, false],
  // Content-based: EventBridge Scheduler delivers expiries here without a deduplication id.
  ['ReservationEventsQueue', 'ReservationEventsDeadLetterQueue', 'ReservationsFunction', true, 5, true],
];

describe.each(QUEUES)('%s', (queueId, dlqId, consumer, fifo, maxReceives, contentDedup) => {
  const queue = resource(template, `${queueId}/Resource`);

  test('FIFO as designed, content-based dedup only where asked, SSE, generated name', () => {
    expect(queue.Type).toBe('AWS::SQS::Queue');
    expect(queue.Properties.FifoQueue).toBe(fifo ? true : undefined);
    expect(queue.Properties.ContentBasedDeduplication === true).toBe(contentDedup);
    expect(queue.Properties.SqsManagedSseEnabled).toBe(true);
    expect(queue.Properties.QueueName).toBeUndefined();
  });

  test(`dead-letters to ${dlqId} after ${maxReceives} receives`, () => {
    expect(queue.Properties.RedrivePolicy.deadLetterTargetArn).toEqual({
      'Fn::GetAtt': [logicalId(template, `${dlqId}/Resource`), 'Arn'],
    });
    expect(queue.Properties.RedrivePolicy.maxReceiveCount).toBe(maxReceives);
    const dlq = resource(template, `${dlqId}/Resource`);
    expect(dlq.Properties.FifoQueue).toBe(fifo ? true : undefined);
    expect(dlq.Properties.SqsManagedSseEnabled).toBe(true);
    expect(dlq.Properties.MessageRetentionPeriod).toBe(14 * 24 * 3600);
    expect(dlq.Properties.RedrivePolicy).toBeUndefined();
  });

  test('visibility timeout is at least 6x the consumer timeout (30 s when none yet)', () => {
    const timeout = consumer ? resource(template, `${consumer}/Resource`).Properties.Timeout : 30;
    expect(timeout).toBeGreaterThan(0);
    expect(queue.Properties.VisibilityTimeout).toBeGreaterThanOrEqual(6 * timeout);
  });

  if (consumer) {
    test(`${consumer} consumes it in batches of 10, reporting batch item failures`, () => {
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        EventSourceArn: { 'Fn::GetAtt': [logicalId(template, `${queueId}/Resource`), 'Arn'] },
        // The consumer's live alias, so a new version takes the queue gradually (lib/releases.ts).
        FunctionName: liveAliasName(template, consumer),
        BatchSize: 10,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      });
    });
  } else {
    test('has no consumer yet, so keeps messages the SQS maximum of 14 days', () => {
      expect(queue.Properties.MessageRetentionPeriod).toBe(14 * 24 * 3600);
      const arn = { 'Fn::GetAtt': [logicalId(template, `${queueId}/Resource`), 'Arn'] };
      const mappings = Object.values(resourcesOfType(template, 'AWS::Lambda::EventSourceMapping'));
      expect(mappings.filter((m) => JSON.stringify(m.Properties.EventSourceArn) === JSON.stringify(arn))).toEqual([]);
    });
  }
});

describe('queues', () => {
  test('exactly the queues above, their dead-letter queues, and the scheduler\'s dead-letter queue', () => {
    template.resourceCountIs('AWS::SQS::Queue', QUEUES.length * 2 + 1);
    const expiryDlq = resource(template, 'ReservationExpiryDeadLetterQueue/Resource').Properties;
    // EventBridge Scheduler's dead-letter queues are standard queues.
    expect(expiryDlq.FifoQueue).toBeUndefined();
    expect(expiryDlq.SqsManagedSseEnabled).toBe(true);
    expect(expiryDlq.MessageRetentionPeriod).toBe(14 * 24 * 3600);
  });

  test('exactly one event source mapping per consumed queue', () => {
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', QUEUES.filter(([, , c]) => c).length);
  });
});

describe('data protection (lib/data-protection.ts), for every stateful resource the stack holds', () => {
  const STATEFUL = ['AWS::DynamoDB::Table', 'AWS::Cognito::UserPool', 'AWS::Logs::LogGroup', 'AWS::Backup::BackupVault'];
  const stateful = (t: Template) =>
    Object.entries(t.toJSON().Resources as Record<string, any>).filter(([, r]) => STATEFUL.includes(r.Type));

  test('kept once created (RetainExceptOnCreate, Retain on replacement), so a failed first deploy leaves nothing', () => {
    const withBackup = synth({ backupRetentionDays: 35 });
    expect(stateful(withBackup).map(([, r]) => r.Type)).toEqual(expect.arrayContaining(STATEFUL));
    for (const [logical, r] of stateful(withBackup)) {
      expect([logical, r.DeletionPolicy, r.UpdateReplacePolicy]).toEqual([logical, 'RetainExceptOnCreate', 'Retain']);
    }
  });

  test('removalPolicy "destroy" deletes all of them with the stack', () => {
    for (const [logical, r] of stateful(synth({ removalPolicy: 'destroy', backupRetentionDays: 7 }))) {
      expect([logical, r.DeletionPolicy]).toEqual([logical, 'Delete']);
    }
  });

  test('no AWS Backup plan unless set', () => {
    template.resourceCountIs('AWS::Backup::BackupPlan', 0);
    template.resourceCountIs('AWS::Backup::BackupVault', 0);
  });

  test('backupRetentionDays: a daily plan into the stack\'s vault, every table selected, kept that long', () => {
    const t = synth({ backupRetentionDays: 35, environment: 'prod' });
    const vault = resource(t, 'BackupVault/Resource');
    expect(vault.Properties.BackupVaultName).toBe('csms-prod');
    const plan = resource(t, 'BackupPlan/Resource').Properties.BackupPlan;
    expect(plan.BackupPlanName).toBe('csms-prod');
    expect(plan.BackupPlanRule).toEqual([
      expect.objectContaining({
        RuleName: 'Daily',
        ScheduleExpression: 'cron(0 3 * * ? *)',
        Lifecycle: { DeleteAfterDays: 35 },
        TargetBackupVault: { 'Fn::GetAtt': [logicalId(t, 'BackupVault/Resource'), 'BackupVaultName'] },
      }),
    ]);
    const selection = resource(t, 'BackupPlan/Tables/Resource').Properties.BackupSelection;
    const selected = JSON.stringify(selection.Resources);
    const tables = Object.keys(resourcesOfType(t, 'AWS::DynamoDB::Table'));
    expect(tables).toHaveLength(TABLES.length);
    for (const table of tables) expect(selected).toContain(`"${table}"`);
    expect(() => synth({ backupRetentionDays: 'weekly' })).toThrow(/backupRetentionDays/);
  });
});
