import * as path from 'path';
import { CfnOutput, Duration, RemovalPolicy, Stack, StackProps, Tags } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import { WebSocketLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { RustFunction } from 'cargo-lambda-cdk';
import { Construct } from 'constructs';
import { addAppDoor, addIdentity } from './app-door';
import { CsmsConfig } from './config';
import { keepData } from './data-protection';
import { inventory } from './inventory';
import { jsonAccessLogFormat, logGroup } from './logging';
import { addMonitoring } from './monitoring';
import { PileDoor, addPileDoor } from './pile-door';
import { addGradualDeployments, live } from './releases';
import { annotateCdkProviderFunctions, ignoreCfnLint, skipCheckov } from './suppressions';
import { addWebDoor, annotateCdkHandlers, deployWebApps } from './web-door';

// The Cargo workspace root; cargo-lambda builds each binary from there.
const WORKSPACE_MANIFEST = path.join(__dirname, '..', '..', 'Cargo.toml');

// The stage name is also the first path segment of the public URL (wss://.../ocpp/<stationId>).
const STAGE_NAME = 'ocpp';

/** Global secondary index of StationsTable for "stations near a point" (csms-domain `geo`). */
export const GEO_INDEX = 'ByGeoCell';
/** Global secondary index of TokensTable: a driver's tokens (csms-aws `TOKENS_BY_OWNER`). */
export const TOKENS_BY_OWNER_INDEX = 'ByOwner';
/** SessionsTable's indexes: a driver's sessions, an organisation's sessions, newest first. */
export const SESSIONS_BY_OWNER_INDEX = 'ByOwner';
export const SESSIONS_BY_ORGANISATION_INDEX = 'ByOrganisation';
/** What a session list shows (the Sessions adapter's names, shared/aws/src/charging.rs). */
export const SESSION_SUMMARY_ATTRIBUTES = ['summary', 'completed'];
/** Global secondary index of StationsTable: an organisation's stations (csms-aws `STATIONS_BY_ORGANISATION`). */
export const BY_ORGANISATION_INDEX = 'ByOrganisation';
/** Global secondary index of OrganisationsTable: an organisation's operators (csms-aws `OPERATORS_BY_ORGANISATION`). */
export const OPERATORS_BY_ORGANISATION_INDEX = 'ByOrganisation';
/** ReservationsTable's indexes: a driver's reservations, an organisation's (csms-aws `RESERVATIONS_BY_*`). */
export const RESERVATIONS_BY_DRIVER_INDEX = 'ByDriver';
export const RESERVATIONS_BY_ORGANISATION_INDEX = 'ByOrganisation';

export interface CsmsStackProps extends StackProps {
  /** The environment's settings (infra/env/<name>.json, checked by lib/config.ts). */
  readonly config: CsmsConfig;
}

/**
 * The whole CSMS in one stack. Construct ids and environment variable names are a contract
 * (ARCHITECTURE.md, "Resources"): the local stand-in finds tables, queues and functions by
 * `aws:cdk:path`, so those stay at the top level of the stack under their ids.
 *
 * Every function is deployed behind its alias `live` (lib/releases.ts): wire API Gateway routes
 * and event sources to `live(fn)`, never to the function itself, so a new version takes traffic
 * gradually and rolls back on its error alarm. Data resources are kept on deletion by
 * lib/data-protection.ts, and alarms cover every function, table and queue by lib/monitoring.ts;
 * both find the resources themselves, so the operations section stays last.
 */
export class CsmsStack extends Stack {
  /** The pile door, for the edge stack's alarms. */
  public readonly pileDoor: PileDoor & { readonly rewriteFunctionName: string };

  constructor(scope: Construct, id: string, props: CsmsStackProps) {
    super(scope, id, props);

    const { config } = props;
    const { heartbeatIntervalSeconds } = config;
    Tags.of(this).add('Project', 'csms');
    Tags.of(this).add('Environment', config.environment);

    // ---- Tables --------------------------------------------------------------------------------
    // On-demand: piles talk in bursts (boot storms after an outage) and idle otherwise.
    const table = (tableId: string, partitionKey: string, sortKey?: string, ttl?: string) => {
      const created = new dynamodb.Table(this, tableId, {
        partitionKey: { name: partitionKey, type: dynamodb.AttributeType.STRING },
        sortKey: sortKey ? { name: sortKey, type: dynamodb.AttributeType.STRING } : undefined,
        timeToLiveAttribute: ttl,
        billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        encryption: dynamodb.TableEncryption.AWS_MANAGED,
        // Outside CloudFormation (the console, a script); CloudFormation itself never deletes a
        // created table (lib/data-protection.ts). Off by default: a protected table would stop
        // the rollback of a failed first deploy.
        deletionProtection: config.deletionProtection,
      });
      skipCheckov(created, {
        id: 'CKV_AWS_119',
        reason:
          'Encrypted with KMS under the AWS-managed key aws/dynamodb (no key to pay for or lose); a customer-managed ' +
          'key adds $1/month per key and a request charge on every read and write of a per-message hot path.',
      });
      return created;
    };

    const stations = table('StationsTable', 'stationId');
    // Stations near a point: each located station carries its geohash cell (`geoCell`, the 4
    // character prefix) and its geohash (`geohash`, 9 characters); a search queries the cells its
    // circle touches. The location itself is projected (the Stations adapter's `latitude` and
    // `longitude`), so distances are computed from the index alone.
    stations.addGlobalSecondaryIndex({
      indexName: GEO_INDEX,
      partitionKey: { name: 'geoCell', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'geohash', type: dynamodb.AttributeType.STRING },
      projectionType: dynamodb.ProjectionType.INCLUDE,
      nonKeyAttributes: ['latitude', 'longitude'],
    });
    // An organisation's stations (the app API's GET /v1/operator/stations): partition
    // `organisation`, sort `stationId`; all attributes, since the listing shows the whole station
    // (connectors, registration, online) and a station item is small.
    stations.addGlobalSecondaryIndex({
      indexName: BY_ORGANISATION_INDEX,
      partitionKey: { name: 'organisation', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'stationId', type: dynamodb.AttributeType.STRING },
      projectionType: dynamodb.ProjectionType.ALL,
    });
    const connections = table('ConnectionsTable', 'connectionId', undefined, 'expiresAt');
    const availability = table('AvailabilityTable', 'stationId', 'component');
    const statusHistory = table('StatusHistoryTable', 'stationId', 'entry', 'expiresAt');
    const stationEvents = table('StationEventsTable', 'stationId', 'entry', 'expiresAt');
    // Charging sessions. Tokens: one registry per issuing organisation (`pk = org#<id>`, or
    // `unassigned`; `sk` = the token), so an organisation's tokens are one partition and the same
    // value may be issued by several; claim codes (`pk = claim#<digest>`) expire by TTL.
    // Transactions: one key space, told apart by key prefixes (a counter item for 1.6 transaction
    // ids, start claims, transactions, seqNo trackers), so that a start is one conditional
    // transaction over one table.
    const tokens = table('TokensTable', 'pk', 'sk', 'expiresAt');
    // A driver's tokens (the app API's GET /v1/me/tokens): partition `owner`, sort `idToken`; all
    // attributes, since a token item is small and the listing shows all of it.
    tokens.addGlobalSecondaryIndex({
      indexName: TOKENS_BY_OWNER_INDEX,
      partitionKey: { name: 'owner', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'idToken', type: dynamodb.AttributeType.STRING },
      projectionType: dynamodb.ProjectionType.ALL,
    });
    const transactions = table('TransactionsTable', 'pk', undefined, 'expiresAt');
    const anomalies = table('AnomaliesTable', 'stationId', 'entry', 'expiresAt');
    const sessions = table('SessionsTable', 'stationId', 'transaction');
    // Sessions' meter series, apart from their records (docs/decisions/meter-series-table.md): one
    // item per session (`session` = `<stationId>#<transaction>`) and instant (`at`, fixed-width
    // RFC 3339), one attribute per reading; a record stays the same size however long it runs.
    const meterSeries = table('MeterSeriesTable', 'session', 'at');
    // A driver's sessions (partition `owner`, the subject owning the session's token) and an
    // organisation's (partition `organisation`, the station's), both sorted by `startedAt` so a
    // time range is a key condition. Only the summary the lists show is projected: the record
    // with its meter series is rewritten on every event and would be copied to both indexes.
    for (const [indexName, partition] of [
      [SESSIONS_BY_OWNER_INDEX, 'owner'],
      [SESSIONS_BY_ORGANISATION_INDEX, 'organisation'],
    ]) {
      sessions.addGlobalSecondaryIndex({
        indexName,
        partitionKey: { name: partition, type: dynamodb.AttributeType.STRING },
        sortKey: { name: 'startedAt', type: dynamodb.AttributeType.STRING },
        projectionType: dynamodb.ProjectionType.INCLUDE,
        nonKeyAttributes: SESSION_SUMMARY_ATTRIBUTES,
      });
    }
    // Remote commands: per station, its commands (`command#<id>`), its one outstanding-call slot
    // (`slot`) and its local authorization list (`locallist`).
    const commands = table('CommandsTable', 'stationId', 'entry', 'expiresAt');
    // Organisations (`pk = organisation`, `sk = <id>`) and operator memberships
    // (`pk = operator#<subject>`, `sk = membership`): an operator's organisation is one GetItem on
    // every operator request. Only memberships carry `organisation`, so the index is sparse.
    const organisations = table('OrganisationsTable', 'pk', 'sk');
    organisations.addGlobalSecondaryIndex({
      indexName: OPERATORS_BY_ORGANISATION_INDEX,
      partitionKey: { name: 'organisation', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'subject', type: dynamodb.AttributeType.STRING },
      projectionType: dynamodb.ProjectionType.ALL,
    });
    // Limits against abuse: shared rate counts per station or user and window (`<key>#<window>`)
    // and each driver's pending remote command (`pending#<subject>`); everything expires.
    const limits = table('LimitsTable', 'pk', undefined, 'expiresAt');
    // Reservations: per station (`pk = <stationId>`) its reservation id counter, reservations,
    // holds on connectors (the conditional items that let exactly one driver have a connector),
    // and reservations the pile may still hold; per driver (`pk = driver#<subject>`) the lock
    // that allows one active reservation. Reservations carry `driver` and `organisation` for the
    // two lists, newest first.
    const reservations = table('ReservationsTable', 'pk', 'sk', 'expiresAt');
    for (const [indexName, partition] of [
      [RESERVATIONS_BY_DRIVER_INDEX, 'driver'],
      [RESERVATIONS_BY_ORGANISATION_INDEX, 'organisation'],
    ]) {
      reservations.addGlobalSecondaryIndex({
        indexName,
        partitionKey: { name: partition, type: dynamodb.AttributeType.STRING },
        sortKey: { name: 'createdAt', type: dynamodb.AttributeType.STRING },
        projectionType: dynamodb.ProjectionType.ALL,
      });
    }
    const tables = {
      StationsTable: stations,
      ConnectionsTable: connections,
      AvailabilityTable: availability,
      StatusHistoryTable: statusHistory,
      StationEventsTable: stationEvents,
      TokensTable: tokens,
      TransactionsTable: transactions,
      AnomaliesTable: anomalies,
      SessionsTable: sessions,
      MeterSeriesTable: meterSeries,
      CommandsTable: commands,
      OrganisationsTable: organisations,
      LimitsTable: limits,
      ReservationsTable: reservations,
    };

    // ---- Functions -----------------------------------------------------------------------------
    // All arm64 (cheaper per GB-s than x86) on provided.al2023. Timeouts of the WebSocket functions
    // stay well under API Gateway's 29 s integration timeout and a pile's ~30 s CALL timeout, so a
    // stuck call fails while the pile still waits for an answer rather than after.
    const rustFunction = (functionId: string, binaryName: string, memorySize: number, timeout: Duration) => {
      const fn = new RustFunction(this, functionId, {
        manifestPath: WORKSPACE_MANIFEST,
        binaryName,
        architecture: lambda.Architecture.ARM_64,
        runtime: 'provided.al2023',
        memorySize,
        timeout,
        logGroup: logGroup(this, `${functionId}Logs`, config),
        loggingFormat: lambda.LoggingFormat.JSON,
        tracing: config.tracing ? lambda.Tracing.ACTIVE : lambda.Tracing.DISABLED,
        // Every deploy publishes a version (lib/releases.ts); earlier ones stay, so the live alias
        // can be pointed back at one without a build (docs/operations.md, "Roll back").
        currentVersionOptions: { removalPolicy: RemovalPolicy.RETAIN },
      });
      skipCheckov(
        fn,
        {
          id: 'CKV_AWS_116',
          reason:
            'Never invoked asynchronously: API Gateway calls it synchronously or an SQS event source mapping polls ' +
            'for it, and the queue has its own dead-letter queue.',
        },
        {
          id: 'CKV_AWS_117',
          reason: 'Reaches only AWS APIs (DynamoDB, SQS, API Gateway, EventBridge Scheduler); a VPC would add NAT or endpoint costs and nothing to protect.',
        },
        {
          id: 'CKV_AWS_173',
          reason: 'Environment variables hold resource names, URLs and settings only, never secrets; Lambda encrypts them at rest.',
        },
        {
          id: 'CKV_AWS_115',
          reason:
            'Concurrency is bounded upstream (stage throttling, SQS event source batching) rather than by reserved ' +
            'concurrency, which would take capacity from the account pool and turn bursts into throttles.',
        },
      );
      ignoreCfnLint(
        fn,
        'W3005',
        'aws-cdk-lib makes every function DependsOn its service role while also reading the role\'s Arn with ' +
          'Fn::GetAtt; the redundant DependsOn is the library\'s own, and harmless.',
      );
      return fn;
    };

    // connect verifies the station password with Argon2id, which is memory-hard and CPU-bound;
    // Lambda gives CPU in proportion to memory, so 1024 MB keeps a hash in the tens of ms. It runs
    // once per connection (at least every 2 h per pile), so the extra memory costs little.
    const connectFn = rustFunction('ConnectFunction', 'connect', 1024, Duration.seconds(10));
    // message answers every frame with one or two DynamoDB calls: small and hot.
    const messageFn = rustFunction('MessageFunction', 'message', 256, Duration.seconds(10));
    // disconnect is one conditional write.
    const disconnectFn = rustFunction('DisconnectFunction', 'disconnect', 256, Duration.seconds(10));
    // status consumes SQS batches of up to 10 and is not behind API Gateway: more time per batch.
    const statusTimeout = Duration.seconds(30);
    const statusFn = rustFunction('StatusFunction', 'status', 256, statusTimeout);
    // sessions consumes SQS batches of transaction events, like status.
    const sessionsTimeout = Duration.seconds(30);
    const sessionsFn = rustFunction('SessionsFunction', 'sessions', 256, sessionsTimeout);
    // commands sends CALLs to piles: a few DynamoDB calls and one PostToConnection per command.
    const commandsTimeout = Duration.seconds(10);
    const commandsFn = rustFunction('CommandsFunction', 'commands', 256, commandsTimeout);
    // api serves the app door: JWT checks (the JWKS fetched once per instance and cached) and a
    // few DynamoDB calls or one SQS send per request; 10 s leaves room for a cold start's JWKS
    // fetch, well within the HTTP API's 30 s integration timeout.
    const apiFn = rustFunction('ApiFunction', 'api', 256, Duration.seconds(10));
    // reservations consumes the reservations queue: a few DynamoDB calls, a schedule and a
    // command per signal, batches of up to 10.
    const reservationsTimeout = Duration.seconds(30);
    const reservationsFn = rustFunction('ReservationsFunction', 'reservations', 256, reservationsTimeout);

    // ---- Queues --------------------------------------------------------------------------------
    // FIFO with MessageGroupId = station id keeps each station's status changes in order.
    // No content-based deduplication: producers set a deduplication id from the frame's identity.
    const statusDlq = new sqs.Queue(this, 'StatusDeadLetterQueue', {
      fifo: true,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    const statusQueue = new sqs.Queue(this, 'StatusQueue', {
      fifo: true,
      contentBasedDeduplication: false,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // AWS's guidance for Lambda event sources: at least 6x the function timeout, so a batch that
      // is retried after throttling is not made visible again while it is still being processed.
      visibilityTimeout: Duration.seconds(statusTimeout.toSeconds() * 6),
      deadLetterQueue: { queue: statusDlq, maxReceiveCount: 5 },
    });

    // Transaction events, same shape as the status queue: FIFO per station, consumed by sessions.
    const sessionEventsDlq = new sqs.Queue(this, 'SessionEventsDeadLetterQueue', {
      fifo: true,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    const sessionEventsQueue = new sqs.Queue(this, 'SessionEventsQueue', {
      fifo: true,
      contentBasedDeduplication: false,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(sessionsTimeout.toSeconds() * 6),
      deadLetterQueue: { queue: sessionEventsDlq, maxReceiveCount: 5 },
    });

    // Completed sessions, for billing. Billing does not exist yet, so nothing consumes this queue:
    // messages wait the SQS maximum of 14 days (not the default 4) for the consumer to come.
    // Its visibility timeout assumes a consumer with a 30 s timeout, like the others.
    const sessionCompletedDlq = new sqs.Queue(this, 'SessionCompletedDeadLetterQueue', {
      fifo: true,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    const sessionCompletedQueue = new sqs.Queue(this, 'SessionCompletedQueue', {
      fifo: true,
      contentBasedDeduplication: false,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      visibilityTimeout: Duration.seconds(30 * 6),
      deadLetterQueue: { queue: sessionCompletedDlq, maxReceiveCount: 5 },
    });

    // Remote commands, FIFO per station so a station's commands go out in the order they were
    // submitted. A command waiting for the station's outstanding call to be answered is handed
    // back with a delay of 1 to 32 s each time (ChangeMessageVisibility), for at most the longest
    // command timeout (15 min): about 35 receives, so maxReceiveCount leaves room above that.
    const commandsDlq = new sqs.Queue(this, 'CommandsDeadLetterQueue', {
      fifo: true,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    const commandsQueue = new sqs.Queue(this, 'CommandsQueue', {
      fifo: true,
      contentBasedDeduplication: false,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(commandsTimeout.toSeconds() * 6),
      deadLetterQueue: { queue: commandsDlq, maxReceiveCount: 60 },
    });
    // Each sent command's deadline check, delayed to its deadline. Standard, not FIFO: only
    // standard queues delay single messages, and the check is idempotent and order-free.
    // This is also why the stack has no schedule (EventBridge rule) for expiring pending
    // commands: each command carries its own delayed check, so it fails at its deadline without
    // a periodic scan; periodic work (reservations, later) would get a schedule then.
    const commandDeadlinesDlq = new sqs.Queue(this, 'CommandDeadlinesDeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    const commandDeadlinesQueue = new sqs.Queue(this, 'CommandDeadlinesQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(commandsTimeout.toSeconds() * 6),
      deadLetterQueue: { queue: commandDeadlinesDlq, maxReceiveCount: 5 },
    });

    // Reservation signals, FIFO per station (the API's new reservations, the pile's answers and
    // transactions, expiries). Content-based deduplication: the expiry schedules deliver here and
    // EventBridge Scheduler sets a message group but no deduplication id; the body identifies a
    // signal, and handling one twice changes nothing.
    const reservationEventsDlq = new sqs.Queue(this, 'ReservationEventsDeadLetterQueue', {
      fifo: true,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    const reservationEventsQueue = new sqs.Queue(this, 'ReservationEventsQueue', {
      fifo: true,
      contentBasedDeduplication: true,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(reservationsTimeout.toSeconds() * 6),
      deadLetterQueue: { queue: reservationEventsDlq, maxReceiveCount: 5 },
    });
    // Where the scheduler puts an expiry it could not deliver (standard: Scheduler's dead-letter
    // queues cannot be FIFO).
    const reservationExpiryDlq = new sqs.Queue(this, 'ReservationExpiryDeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });

    for (const queue of [
      statusQueue, statusDlq, sessionEventsQueue, sessionEventsDlq, sessionCompletedQueue, sessionCompletedDlq,
      commandsQueue, commandsDlq, commandDeadlinesQueue, commandDeadlinesDlq, reservationEventsQueue,
      reservationEventsDlq, reservationExpiryDlq,
    ]) {
      skipCheckov(queue, {
        id: 'CKV_AWS_27',
        reason:
          'Encrypted at rest with SQS-managed SSE (SqsManagedSseEnabled, asserted by the template tests); the check ' +
          'only recognises KmsMasterKeyId, and a KMS key would add a KMS request to every send and receive.',
      });
    }

    // ---- Reservation expiry --------------------------------------------------------------------
    // One one-time schedule per reservation (`at(<expiry>)`, deleted after it fires or when the
    // reservation ends first), in a group of their own, delivering the expiry signal to the
    // reservations queue with a role that may do only that: no periodic scan of reservations.
    // The L1 resource: CloudFormation names it (the L2 would fix a name at synth time), like
    // every table and queue, so the local stand-in resolves it the same way.
    const reservationSchedules = new scheduler.CfnScheduleGroup(this, 'ReservationSchedules', {});
    reservationSchedules.applyRemovalPolicy(config.removalPolicy);
    const reservationScheduleGroupName = reservationSchedules.ref;
    const reservationSchedulerRole = new iam.Role(this, 'ReservationSchedulerRole', {
      description: 'EventBridge Scheduler: delivers reservation expiries to the reservations queue',
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: {
          StringEquals: { 'aws:SourceAccount': this.account },
          ArnLike: { 'aws:SourceArn': this.formatArn({ service: 'scheduler', resource: 'schedule', resourceName: `${reservationScheduleGroupName}/*` }) },
        },
      }),
    });
    reservationEventsQueue.grantSendMessages(reservationSchedulerRole);
    reservationExpiryDlq.grantSendMessages(reservationSchedulerRole);

    // ---- WebSocket API -------------------------------------------------------------------------
    // Routes are added after the functions exist; the functions need the API id for their callback URL.
    const api = new apigwv2.WebSocketApi(this, 'WebSocketApi', {
      description: 'OCPP-J endpoint for charge points',
    });
    const webSocketAccessLogs = logGroup(this, 'WebSocketAccessLogs', config);
    const stage = new apigwv2.WebSocketStage(this, 'WebSocketStage', {
      webSocketApi: api,
      stageName: STAGE_NAME,
      autoDeploy: true,
      // A ceiling so a misbehaving fleet cannot run up Lambda and DynamoDB without bound
      // (the account default is 10,000 rps). Raise it for fleets beyond a few tens of thousands.
      throttle: config.pileDoorThrottle,
      // One JSON line per handshake, message and disconnect: which station (the connection's
      // query string is not logged, the connection id is), which route, what status, how slow.
      accessLogSettings: {
        destination: new apigwv2.LogGroupLogDestination(webSocketAccessLogs),
        format: jsonAccessLogFormat({
          requestId: '$context.requestId',
          connectionId: '$context.connectionId',
          eventType: '$context.eventType',
          routeKey: '$context.routeKey',
          status: '$context.status',
          requestTime: '$context.requestTime',
          ip: '$context.identity.sourceIp',
          userAgent: '$context.identity.userAgent',
          integrationLatency: '$context.integrationLatency',
          integrationStatus: '$context.integrationStatus',
          error: '$context.error.message',
          // Why a socket closed (docs/operations.md, FleetDisconnects).
          disconnectStatusCode: '$context.disconnectStatusCode',
          disconnectReason: '$context.disconnectReason',
        }),
      },
    });
    // WebSocket (and REST) stages write logs through API Gateway's account-wide CloudWatch Logs
    // role: one setting per account and region, which the first deployment must make. Kept on
    // stack deletion, since other stacks of the account may rely on it; turn it off with
    // -c apiGatewayCloudWatchRole=false where the account already has one.
    if (config.apiGatewayCloudWatchRole) {
      const role = new iam.Role(this, 'ApiGatewayCloudWatchRole', {
        description: 'API Gateway (account setting): writes WebSocket and REST stage logs to CloudWatch Logs',
        assumedBy: new iam.ServicePrincipal('apigateway.amazonaws.com'),
        managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AmazonAPIGatewayPushToCloudWatchLogs')],
      });
      role.applyRemovalPolicy(RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE);
      const account = new apigw.CfnAccount(this, 'ApiGatewayAccount', { cloudWatchRoleArn: role.roleArn });
      account.applyRemovalPolicy(RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE);
      stage.node.addDependency(account);
    }

    // $connect is a Lambda proxy integration: API Gateway passes the function's response headers,
    // including the chosen Sec-WebSocket-Protocol, into the handshake response. No route response
    // is needed (or used) for that.
    api.addRoute('$connect', {
      integration: new WebSocketLambdaIntegration('ConnectIntegration', live(connectFn)),
    });
    api.addRoute('$disconnect', {
      integration: new WebSocketLambdaIntegration('DisconnectIntegration', live(disconnectFn)),
    });
    // returnResponse adds a route response, so the function's return value (the CALLRESULT or
    // CALLERROR) goes back to the pile on the same connection, without a PostToConnection call.
    api.addRoute('$default', {
      integration: new WebSocketLambdaIntegration('MessageIntegration', live(messageFn)),
      returnResponse: true,
    });
    // No authorizer on any route: $connect's function is the authorizer (404 for an unknown
    // station, 401 for a wrong password, which a REQUEST authorizer could not tell apart), and
    // later frames arrive on connections it authenticated.

    // ---- Environment and grants (least privilege: only what each function uses) ----------------
    connectFn.addEnvironment('STATIONS_TABLE', stations.tableName);
    connectFn.addEnvironment('CONNECTIONS_TABLE', connections.tableName);
    connectFn.addEnvironment('CONNECTIONS_ENDPOINT', stage.callbackUrl);
    connectFn.addEnvironment('COMMANDS_TABLE', commands.tableName);
    stations.grantReadWriteData(connectFn);
    connections.grantReadWriteData(connectFn);
    // A reconnecting pile will not answer a CALL sent on its old socket: connect fails it.
    commands.grantReadWriteData(connectFn);
    // A station's new connection replaces its old one, which connect closes (DeleteConnection):
    // DELETE only, connect never sends piles anything.
    const mayCloseConnections = (fn: lambda.IFunction) =>
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['execute-api:ManageConnections'],
          resources: [
            this.formatArn({
              service: 'execute-api',
              resource: api.apiId,
              resourceName: `${stage.stageName}/DELETE/@connections/*`,
            }),
          ],
        }),
      );
    mayCloseConnections(connectFn);

    messageFn.addEnvironment('STATIONS_TABLE', stations.tableName);
    messageFn.addEnvironment('CONNECTIONS_TABLE', connections.tableName);
    messageFn.addEnvironment('STATION_EVENTS_TABLE', stationEvents.tableName);
    messageFn.addEnvironment('STATUS_QUEUE_URL', statusQueue.queueUrl);
    messageFn.addEnvironment('HEARTBEAT_INTERVAL_SECONDS', String(heartbeatIntervalSeconds));
    messageFn.addEnvironment('TOKENS_TABLE', tokens.tableName);
    messageFn.addEnvironment('TRANSACTIONS_TABLE', transactions.tableName);
    messageFn.addEnvironment('ANOMALIES_TABLE', anomalies.tableName);
    messageFn.addEnvironment('SESSION_EVENTS_QUEUE_URL', sessionEventsQueue.queueUrl);
    messageFn.addEnvironment('COMMANDS_TABLE', commands.tableName);
    // Stations: read (boot decisions) and UpdateItem (the boot it records), nothing else.
    stations.grant(messageFn, 'dynamodb:GetItem', 'dynamodb:UpdateItem');
    connections.grantReadWriteData(messageFn);
    stationEvents.grantWriteData(messageFn);
    statusQueue.grantSendMessages(messageFn);
    // Authorize reads tokens only; transactions need reads, conditional writes, transactional
    // writes and UpdateItem (the atomic ADD that hands out 1.6 transaction ids).
    tokens.grantReadData(messageFn);
    transactions.grantReadWriteData(messageFn);
    // Anomalies are only added (PutItem, idempotent by key); operators read them elsewhere.
    anomalies.grant(messageFn, 'dynamodb:PutItem');
    sessionEventsQueue.grantSendMessages(messageFn);
    // CALLRESULT / CALLERROR frames complete pending commands.
    commands.grantReadWriteData(messageFn);
    // Reservations: a 1.6 start reads its connector's hold (is it the holder's?); starts for a
    // reservation, Reserved reports and ReservationStatusUpdate are signalled to the reservations queue.
    messageFn.addEnvironment('RESERVATIONS_TABLE', reservations.tableName);
    messageFn.addEnvironment('RESERVATION_EVENTS_QUEUE_URL', reservationEventsQueue.queueUrl);
    reservations.grantReadData(messageFn);
    reservationEventsQueue.grantSendMessages(messageFn);

    disconnectFn.addEnvironment('STATIONS_TABLE', stations.tableName);
    disconnectFn.addEnvironment('CONNECTIONS_TABLE', connections.tableName);
    disconnectFn.addEnvironment('COMMANDS_TABLE', commands.tableName);
    stations.grantWriteData(disconnectFn);
    // The command awaiting the departed pile's answer fails Disconnected.
    commands.grantReadWriteData(disconnectFn);
    // Reads the connection to learn its station, then deletes it.
    connections.grantReadWriteData(disconnectFn);

    statusFn.addEnvironment('AVAILABILITY_TABLE', availability.tableName);
    statusFn.addEnvironment('STATUS_HISTORY_TABLE', statusHistory.tableName);
    availability.grantReadWriteData(statusFn);
    statusHistory.grantReadWriteData(statusFn);
    // A report for a connector the station has not declared is an anomaly, not a view: status
    // reads the station's declared connectors and adds anomalies, nothing more.
    statusFn.addEnvironment('STATIONS_TABLE', stations.tableName);
    statusFn.addEnvironment('ANOMALIES_TABLE', anomalies.tableName);
    stations.grant(statusFn, 'dynamodb:GetItem');
    anomalies.grant(statusFn, 'dynamodb:PutItem');
    // Grants receive/delete/change-visibility on the queue. Partial batch responses: only the
    // failed messages are retried, and a FIFO group stops at its first failure, keeping order.
    live(statusFn).addEventSource(
      new SqsEventSource(statusQueue, { batchSize: 10, reportBatchItemFailures: true }),
    );

    sessionsFn.addEnvironment('SESSIONS_TABLE', sessions.tableName);
    sessionsFn.addEnvironment('METER_SERIES_TABLE', meterSeries.tableName);
    meterSeries.grantReadWriteData(sessionsFn);
    // Whose session it is: the token's owner and the station's organisation, read once each.
    sessionsFn.addEnvironment('TOKENS_TABLE', tokens.tableName);
    sessionsFn.addEnvironment('STATIONS_TABLE', stations.tableName);
    tokens.grantReadData(sessionsFn);
    stations.grantReadData(sessionsFn);
    sessionsFn.addEnvironment('SESSION_COMPLETED_QUEUE_URL', sessionCompletedQueue.queueUrl);
    sessions.grantReadWriteData(sessionsFn);
    sessionCompletedQueue.grantSendMessages(sessionsFn);
    live(sessionsFn).addEventSource(
      new SqsEventSource(sessionEventsQueue, { batchSize: 10, reportBatchItemFailures: true }),
    );

    commandsFn.addEnvironment('STATIONS_TABLE', stations.tableName);
    commandsFn.addEnvironment('CONNECTIONS_TABLE', connections.tableName);
    commandsFn.addEnvironment('COMMANDS_TABLE', commands.tableName);
    commandsFn.addEnvironment('COMMANDS_QUEUE_URL', commandsQueue.queueUrl);
    commandsFn.addEnvironment('COMMAND_DEADLINES_QUEUE_URL', commandDeadlinesQueue.queueUrl);
    commandsFn.addEnvironment('CONNECTIONS_ENDPOINT', stage.callbackUrl);
    // Reads the station's live connection; sends with PostToConnection (ManageConnections on this
    // stage's own @connections resource only).
    stations.grantReadData(commandsFn);
    connections.grantReadData(commandsFn);
    commands.grantReadWriteData(commandsFn);
    stage.grantManagementApiAccess(commandsFn);
    // Consuming grants ChangeMessageVisibility too, which hands a busy station's command back early.
    live(commandsFn).addEventSource(
      new SqsEventSource(commandsQueue, { batchSize: 10, reportBatchItemFailures: true }),
    );
    commandDeadlinesQueue.grantSendMessages(commandsFn);
    live(commandsFn).addEventSource(
      new SqsEventSource(commandDeadlinesQueue, { batchSize: 10, reportBatchItemFailures: true }),
    );
    // A ReserveNow / CancelReservation that fails (or ends before its deadline check) is
    // signalled to the reservations queue.
    commandsFn.addEnvironment('RESERVATION_EVENTS_QUEUE_URL', reservationEventsQueue.queueUrl);
    reservationEventsQueue.grantSendMessages(commandsFn);

    // The reservations function: records and holds, the station's live state, commands out,
    // and one schedule per reservation (create and delete only, in its own group), which it
    // hands the scheduler role for.
    reservationsFn.addEnvironment('RESERVATIONS_TABLE', reservations.tableName);
    reservationsFn.addEnvironment('STATIONS_TABLE', stations.tableName);
    reservationsFn.addEnvironment('CONNECTIONS_TABLE', connections.tableName);
    reservationsFn.addEnvironment('AVAILABILITY_TABLE', availability.tableName);
    reservationsFn.addEnvironment('COMMANDS_QUEUE_URL', commandsQueue.queueUrl);
    reservationsFn.addEnvironment('RESERVATION_SCHEDULE_GROUP', reservationScheduleGroupName);
    reservationsFn.addEnvironment('RESERVATION_EVENTS_QUEUE_ARN', reservationEventsQueue.queueArn);
    reservationsFn.addEnvironment('RESERVATION_SCHEDULER_ROLE_ARN', reservationSchedulerRole.roleArn);
    reservationsFn.addEnvironment('RESERVATION_EXPIRY_DLQ_ARN', reservationExpiryDlq.queueArn);
    reservations.grantReadWriteData(reservationsFn);
    stations.grantReadData(reservationsFn);
    connections.grantReadData(reservationsFn);
    availability.grantReadData(reservationsFn);
    commandsQueue.grantSendMessages(reservationsFn);
    reservationsFn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['scheduler:CreateSchedule', 'scheduler:DeleteSchedule'],
        resources: [
          this.formatArn({ service: 'scheduler', resource: 'schedule', resourceName: `${reservationScheduleGroupName}/*` }),
        ],
      }),
    );
    reservationsFn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['iam:PassRole'],
        resources: [reservationSchedulerRole.roleArn],
        conditions: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
      }),
    );
    live(reservationsFn).addEventSource(
      new SqsEventSource(reservationEventsQueue, { batchSize: 10, reportBatchItemFailures: true }),
    );

    // ---- Doors ---------------------------------------------------------------------------------
    const pileDoor = addPileDoor(this, api, config);
    this.pileDoor = {
      ...pileDoor,
      rewriteFunctionName: (this.node.findChild('OcppPathRewrite') as cloudfront.Function).functionName,
    };
    const webDoor = addWebDoor(this, config);
    const identity = addIdentity(this, config, webDoor);
    const appDoor = addAppDoor(this, live(apiFn), identity, config, webDoor.origin);
    webDoor.connectTo({ api: appDoor.apiOrigin, auth: identity.domain.baseUrl() });
    deployWebApps(this, webDoor, config, {
      apiUrl: appDoor.apiUrl.replace(/\/$/, ''),
      ocppUrl: pileDoor.ocppUrl,
      signInUrl: identity.domain.baseUrl(),
      clientId: identity.webClient.userPoolClientId,
    });
    annotateCdkHandlers(this);

    // The app API: validates Cognito access tokens itself too (AUTH_*), reads the fleet's state,
    // registers stations and id tokens, and submits remote commands like csms-registry does.
    apiFn.addEnvironment('AUTH_ISSUER', identity.issuerUrl);
    apiFn.addEnvironment('AUTH_AUDIENCE', identity.webClient.userPoolClientId);
    apiFn.addEnvironment('AUTH_TOKEN_USE', 'access');
    apiFn.addEnvironment('STATIONS_TABLE', stations.tableName);
    apiFn.addEnvironment('CONNECTIONS_TABLE', connections.tableName);
    apiFn.addEnvironment('AVAILABILITY_TABLE', availability.tableName);
    apiFn.addEnvironment('STATUS_HISTORY_TABLE', statusHistory.tableName);
    apiFn.addEnvironment('TOKENS_TABLE', tokens.tableName);
    apiFn.addEnvironment('SESSIONS_TABLE', sessions.tableName);
    apiFn.addEnvironment('METER_SERIES_TABLE', meterSeries.tableName);
    apiFn.addEnvironment('COMMANDS_TABLE', commands.tableName);
    apiFn.addEnvironment('COMMANDS_QUEUE_URL', commandsQueue.queueUrl);
    apiFn.addEnvironment('CONNECTIONS_ENDPOINT', stage.callbackUrl);
    apiFn.addEnvironment('ORGANISATIONS_TABLE', organisations.tableName);
    // Requests per user and minute, and one pending command per driver: counts are added
    // (UpdateItem), pending commands read and put conditionally.
    apiFn.addEnvironment('LIMITS_TABLE', limits.tableName);
    apiFn.addEnvironment('SUBJECT_REQUESTS_PER_MINUTE', String(config.subjectRequestsPerMinute));
    limits.grant(apiFn, 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem');
    // Reservations: the hold is written here (one conditional transaction) and the rest is
    // signalled to the reservations function; the settings are the operator's.
    apiFn.addEnvironment('RESERVATIONS_TABLE', reservations.tableName);
    apiFn.addEnvironment('RESERVATION_EVENTS_QUEUE_URL', reservationEventsQueue.queueUrl);
    apiFn.addEnvironment('RESERVATION_MAX_MINUTES', String(config.reservationMaxMinutes));
    apiFn.addEnvironment('RESERVATION_ONE_PER_DRIVER', String(config.reservationOnePerDriver));
    reservations.grantReadWriteData(apiFn);
    reservationEventsQueue.grantSendMessages(apiFn);
    // Writes: stations (registration, location), tokens, commands (the API records what it
    // submits) and organisations (admins); everything else it only reads. Reads on stations
    // include the ByGeoCell index.
    stations.grantReadWriteData(apiFn);
    organisations.grantReadWriteData(apiFn);
    tokens.grantReadWriteData(apiFn);
    commands.grantReadWriteData(apiFn);
    connections.grantReadData(apiFn);
    availability.grantReadData(apiFn);
    statusHistory.grantReadData(apiFn);
    sessions.grantReadData(apiFn);
    meterSeries.grantReadData(apiFn);
    commandsQueue.grantSendMessages(apiFn);
    // Decommissioning closes the station's live connection: DELETE on this stage's @connections
    // only (no PostToConnection: the API sends piles nothing itself).
    mayCloseConnections(apiFn);

    // ---- Operations ----------------------------------------------------------------------------
    // Last, so that everything above is found: every function, table and queue of the stack.
    const found = inventory(this);
    keepData(this, found, config);
    const monitoring = addMonitoring(
      this,
      {
        ...found,
        webSocket: { apiId: api.apiId, stageName: stage.stageName },
        http: { apiId: appDoor.httpApi.apiId, stageName: appDoor.stage.stageName },
      },
      config,
    );
    addGradualDeployments(this, found.functions, monitoring.functionErrorAlarms, config);

    // ---- Outputs -------------------------------------------------------------------------------
    new CfnOutput(this, 'OcppUrl', {
      value: pileDoor.ocppUrl,
      description: 'Piles connect to <this><stationId> (CloudFront moves the id into ?stationId=)',
    });
    if (config.ocppDomain) {
      new CfnOutput(this, 'OcppDomainTarget', {
        value: pileDoor.distribution.distributionDomainName,
        description: `Point ${config.ocppDomain.domainName} here (CNAME, or an alias record in Route 53)`,
      });
    }
    new CfnOutput(this, 'ApiUrl', { value: appDoor.apiUrl, description: 'The app API (HTTP API, Cognito JWT)' });
    if (appDoor.domainName) {
      new CfnOutput(this, 'ApiDomainTarget', {
        value: appDoor.domainName.regionalDomainName,
        description: `Point ${config.apiDomain!.domainName} here (CNAME, or an alias record in Route 53)`,
      });
    }
    new CfnOutput(this, 'WebUrl', { value: `${webDoor.origin}/`, description: 'The driver app (the operator console is at <this>console/)' });
    if (config.webDomain) {
      new CfnOutput(this, 'WebDomainTarget', {
        value: webDoor.distribution.distributionDomainName,
        description: `Point ${config.webDomain.domainName} here (CNAME, or an alias record in Route 53)`,
      });
    }
    new CfnOutput(this, 'UserPoolId', { value: identity.userPool.userPoolId, description: 'Cognito user pool of the app users' });
    new CfnOutput(this, 'AppClientId', {
      value: identity.webClient.userPoolClientId,
      description: 'Web app client: authorization code + PKCE, no secret',
    });
    new CfnOutput(this, 'IssuerUrl', { value: identity.issuerUrl, description: 'Issuer (iss) of the user pool tokens' });
    new CfnOutput(this, 'HostedSignInUrl', {
      value: identity.domain.baseUrl(),
      description: 'Cognito hosted sign-in domain (/oauth2/authorize, /oauth2/token, /login)',
    });
    new CfnOutput(this, 'AlarmTopicArn', { value: monitoring.topic.topicArn, description: 'Alarms notify this SNS topic' });
    new CfnOutput(this, 'DashboardName', { value: monitoring.dashboard.dashboardName, description: 'CloudWatch dashboard' });
    // Table names, for csms-registry against the deployed stack (docs/deploy.md).
    for (const [tableId, t] of Object.entries(tables)) {
      new CfnOutput(this, `${tableId}Name`, { value: t.tableName, description: `${tableId} (physical name)` });
    }
    new CfnOutput(this, 'WebSocketUrl', {
      value: stage.url,
      description: 'The stage itself (wss://<api>/ocpp?stationId=<id>), for diagnosis; piles use OcppUrl',
    });
    new CfnOutput(this, 'CommandsQueueUrl', {
      value: commandsQueue.queueUrl,
      description: 'Operator tools and the app API submit remote commands here',
    });
    new CfnOutput(this, 'CallbackUrl', {
      value: stage.callbackUrl,
      description: 'The @connections management endpoint of the stage',
    });
  }

  /** CDK's own custom resource functions get their lint suppressions (lib/suppressions.ts). */
  protected _toCloudFormation(): any {
    return annotateCdkProviderFunctions(super._toCloudFormation());
  }
}
