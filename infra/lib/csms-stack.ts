import * as path from 'path';
import { CfnOutput, Duration, RemovalPolicy, Stack, StackProps } from 'aws-cdk-lib';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { WebSocketLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { RustFunction } from 'cargo-lambda-cdk';
import { Construct } from 'constructs';

// The Cargo workspace root; cargo-lambda builds each binary from there.
const WORKSPACE_MANIFEST = path.join(__dirname, '..', '..', 'Cargo.toml');

// The stage name is also the first path segment of the public URL (wss://.../ocpp/<stationId>).
const STAGE_NAME = 'ocpp';

/**
 * The whole CSMS in one stack. Construct ids and environment variable names are a contract
 * (ARCHITECTURE.md, "Resources"): the local stand-in finds resources by `aws:cdk:path`.
 *
 * Context:
 * - `removalPolicy`: `retain` (default) or `destroy`, for the tables and log groups.
 * - `heartbeatIntervalSeconds`: interval handed to piles in BootNotification (default 300).
 */
export class CsmsStack extends Stack {
  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);

    const removalPolicy = removalPolicyFromContext(this.node.tryGetContext('removalPolicy'));
    const heartbeatIntervalSeconds = heartbeatFromContext(this.node.tryGetContext('heartbeatIntervalSeconds'));

    // ---- Tables --------------------------------------------------------------------------------
    // On-demand: piles talk in bursts (boot storms after an outage) and idle otherwise.
    const table = (tableId: string, partitionKey: string, sortKey?: string, ttl?: string) =>
      new dynamodb.Table(this, tableId, {
        partitionKey: { name: partitionKey, type: dynamodb.AttributeType.STRING },
        sortKey: sortKey ? { name: sortKey, type: dynamodb.AttributeType.STRING } : undefined,
        timeToLiveAttribute: ttl,
        billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        encryption: dynamodb.TableEncryption.AWS_MANAGED,
        removalPolicy,
      });

    const stations = table('StationsTable', 'stationId');
    const connections = table('ConnectionsTable', 'connectionId', undefined, 'expiresAt');
    const availability = table('AvailabilityTable', 'stationId', 'component');
    const statusHistory = table('StatusHistoryTable', 'stationId', 'entry', 'expiresAt');
    const stationEvents = table('StationEventsTable', 'stationId', 'entry', 'expiresAt');
    // Charging sessions. Tokens: one item per idToken. Transactions: one key space, told apart by
    // key prefixes (a counter item for 1.6 transaction ids, start claims, transactions, seqNo
    // trackers), so that a start is one conditional transaction over one table.
    const tokens = table('TokensTable', 'idToken');
    const transactions = table('TransactionsTable', 'pk', undefined, 'expiresAt');
    const anomalies = table('AnomaliesTable', 'stationId', 'entry', 'expiresAt');
    const sessions = table('SessionsTable', 'stationId', 'transaction');
    // Remote commands: per station, its commands (`command#<id>`), its one outstanding-call slot
    // (`slot`) and its local authorization list (`locallist`).
    const commands = table('CommandsTable', 'stationId', 'entry', 'expiresAt');

    // ---- Functions -----------------------------------------------------------------------------
    // All arm64 (cheaper per GB-s than x86) on provided.al2023. Timeouts of the WebSocket functions
    // stay well under API Gateway's 29 s integration timeout and a pile's ~30 s CALL timeout, so a
    // stuck call fails while the pile still waits for an answer rather than after.
    const rustFunction = (functionId: string, binaryName: string, memorySize: number, timeout: Duration) => {
      const logGroup = new logs.LogGroup(this, `${functionId}Logs`, {
        retention: logs.RetentionDays.ONE_MONTH,
        removalPolicy,
      });
      return new RustFunction(this, functionId, {
        manifestPath: WORKSPACE_MANIFEST,
        binaryName,
        architecture: lambda.Architecture.ARM_64,
        runtime: 'provided.al2023',
        memorySize,
        timeout,
        logGroup,
        loggingFormat: lambda.LoggingFormat.JSON,
        tracing: lambda.Tracing.ACTIVE,
      });
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

    // ---- WebSocket API -------------------------------------------------------------------------
    // Routes are added after the functions exist; the functions need the API id for their callback URL.
    const api = new apigwv2.WebSocketApi(this, 'WebSocketApi', {
      description: 'OCPP-J endpoint for charge points',
    });
    const stage = new apigwv2.WebSocketStage(this, 'WebSocketStage', {
      webSocketApi: api,
      stageName: STAGE_NAME,
      autoDeploy: true,
      // A ceiling so a misbehaving fleet cannot run up Lambda and DynamoDB without bound
      // (the account default is 10,000 rps). Raise it for fleets beyond a few tens of thousands.
      throttle: { rateLimit: 500, burstLimit: 1000 },
    });

    // $connect is a Lambda proxy integration: API Gateway passes the function's response headers,
    // including the chosen Sec-WebSocket-Protocol, into the handshake response. No route response
    // is needed (or used) for that.
    api.addRoute('$connect', {
      integration: new WebSocketLambdaIntegration('ConnectIntegration', connectFn),
    });
    api.addRoute('$disconnect', {
      integration: new WebSocketLambdaIntegration('DisconnectIntegration', disconnectFn),
    });
    // returnResponse adds a route response, so the function's return value (the CALLRESULT or
    // CALLERROR) goes back to the pile on the same connection, without a PostToConnection call.
    api.addRoute('$default', {
      integration: new WebSocketLambdaIntegration('MessageIntegration', messageFn),
      returnResponse: true,
    });

    // ---- Environment and grants (least privilege: only what each function uses) ----------------
    connectFn.addEnvironment('STATIONS_TABLE', stations.tableName);
    connectFn.addEnvironment('CONNECTIONS_TABLE', connections.tableName);
    connectFn.addEnvironment('CONNECTIONS_ENDPOINT', stage.callbackUrl);
    connectFn.addEnvironment('COMMANDS_TABLE', commands.tableName);
    stations.grantReadWriteData(connectFn);
    connections.grantReadWriteData(connectFn);
    // A reconnecting pile will not answer a CALL sent on its old socket: connect fails it.
    commands.grantReadWriteData(connectFn);
    // A station's new connection replaces its old one, which connect closes (DeleteConnection).
    stage.grantManagementApiAccess(connectFn);

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
    stations.grantReadWriteData(messageFn);
    connections.grantReadWriteData(messageFn);
    stationEvents.grantWriteData(messageFn);
    statusQueue.grantSendMessages(messageFn);
    // Authorize reads tokens only; transactions need reads, conditional writes, transactional
    // writes and UpdateItem (the atomic ADD that hands out 1.6 transaction ids).
    tokens.grantReadData(messageFn);
    transactions.grantReadWriteData(messageFn);
    anomalies.grantReadWriteData(messageFn);
    sessionEventsQueue.grantSendMessages(messageFn);
    // CALLRESULT / CALLERROR frames complete pending commands.
    commands.grantReadWriteData(messageFn);

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
    // Grants receive/delete/change-visibility on the queue. Partial batch responses: only the
    // failed messages are retried, and a FIFO group stops at its first failure, keeping order.
    statusFn.addEventSource(
      new SqsEventSource(statusQueue, { batchSize: 10, reportBatchItemFailures: true }),
    );

    sessionsFn.addEnvironment('SESSIONS_TABLE', sessions.tableName);
    sessionsFn.addEnvironment('SESSION_COMPLETED_QUEUE_URL', sessionCompletedQueue.queueUrl);
    sessions.grantReadWriteData(sessionsFn);
    sessionCompletedQueue.grantSendMessages(sessionsFn);
    sessionsFn.addEventSource(
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
    commandsFn.addEventSource(
      new SqsEventSource(commandsQueue, { batchSize: 10, reportBatchItemFailures: true }),
    );
    commandDeadlinesQueue.grantSendMessages(commandsFn);
    commandsFn.addEventSource(
      new SqsEventSource(commandDeadlinesQueue, { batchSize: 10, reportBatchItemFailures: true }),
    );

    // ---- Outputs -------------------------------------------------------------------------------
    new CfnOutput(this, 'WebSocketUrl', {
      value: stage.url,
      description: 'Piles connect to <this>/<stationId> (behind the CloudFront path rewrite)',
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
}

function removalPolicyFromContext(value: unknown): RemovalPolicy {
  switch (value ?? 'retain') {
    case 'retain':
      return RemovalPolicy.RETAIN;
    case 'destroy':
      return RemovalPolicy.DESTROY;
    default:
      throw new Error(`context removalPolicy must be "retain" or "destroy", got ${JSON.stringify(value)}`);
  }
}

function heartbeatFromContext(value: unknown): number {
  // -c values arrive as strings; values from cdk.json or tests may be numbers.
  const seconds = value === undefined ? 300 : Number(value);
  // API Gateway drops a WebSocket idle for 10 minutes, so the heartbeat must come sooner.
  if (!Number.isInteger(seconds) || seconds < 1 || seconds >= 600) {
    throw new Error(`context heartbeatIntervalSeconds must be an integer in 1..599, got ${JSON.stringify(value)}`);
  }
  return seconds;
}
