import { Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { RustFunction } from 'cargo-lambda-cdk';

export interface FoundTable {
  readonly table: dynamodb.Table;
  /** Its global secondary indexes, by name. */
  readonly indexes: string[];
}

/** What the stack holds, by construct id, for the mechanisms that must cover all of it. */
export interface Inventory {
  /** The project's own functions (Rust); not the helpers CDK adds for custom resources. */
  readonly functions: Record<string, lambda.Function>;
  readonly tables: Record<string, FoundTable>;
  /** Queues that are not a dead-letter queue, and whether a function consumes them. */
  readonly queues: Record<string, sqs.Queue>;
  readonly consumedQueues: Set<string>;
  readonly deadLetterQueues: Record<string, sqs.Queue>;
}

/**
 * Finds every function, table and queue defined directly in the stack, so that deployments, data
 * protection and alarms cover a resource as soon as it exists, without a list to keep up to date.
 */
export function inventory(stack: Stack): Inventory {
  const children = stack.node.children;
  const byId = <T>(guard: (c: unknown) => c is T) =>
    Object.fromEntries(children.filter(guard).map((c) => [(c as unknown as { node: { id: string } }).node.id, c])) as Record<string, T>;

  const functions = byId((c): c is RustFunction => c instanceof RustFunction);
  const allQueues = byId((c): c is sqs.Queue => c instanceof sqs.Queue);
  const deadLetterTargets = new Set(Object.values(allQueues).flatMap((q) => (q.deadLetterQueue ? [q.deadLetterQueue.queue] : [])));
  const queues: Record<string, sqs.Queue> = {};
  const deadLetterQueues: Record<string, sqs.Queue> = {};
  for (const [id, q] of Object.entries(allQueues)) {
    (deadLetterTargets.has(q) ? deadLetterQueues : queues)[id] = q;
  }

  // A queue is consumed when an event source mapping reads from it.
  const sources = new Set(
    stack.node.findAll()
      .filter((c): c is lambda.CfnEventSourceMapping => c instanceof lambda.CfnEventSourceMapping)
      .map((m) => JSON.stringify(stack.resolve(m.eventSourceArn))),
  );
  const consumedQueues = new Set(
    Object.entries(queues).filter(([, q]) => sources.has(JSON.stringify(stack.resolve(q.queueArn)))).map(([id]) => id),
  );

  const tables: Record<string, FoundTable> = {};
  for (const [id, table] of Object.entries(byId((c): c is dynamodb.Table => c instanceof dynamodb.Table))) {
    const cfn = table.node.defaultChild as dynamodb.CfnTable;
    const indexes = (stack.resolve(cfn.globalSecondaryIndexes) ?? []) as Array<{ indexName: string }>;
    tables[id] = { table, indexes: indexes.map((i) => i.indexName) };
  }
  return { functions, tables, queues, consumedQueues, deadLetterQueues };
}
