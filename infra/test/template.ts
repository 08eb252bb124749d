import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { CsmsStack } from '../lib/csms-stack';

/**
 * Synthesizes the stack the way `npm run synth` does: bundling off (no Rust build; the same
 * context key bin/csms.ts sets), path metadata on so resources are found by construct id, as the
 * local stand-in finds them.
 */
export function synth(context: Record<string, unknown> = {}): Template {
  const app = new App({
    context: {
      'aws:cdk:bundling-stacks': [],
      'aws:cdk:enable-path-metadata': true,
      ...context,
    },
  });
  return Template.fromStack(new CsmsStack(app, 'Csms'));
}

export type Resource = { Type: string; Properties: any; Metadata?: any; DeletionPolicy?: string };

/** The logical id of the resource at `Csms/<constructPath>`. */
export function logicalId(template: Template, constructPath: string): string {
  const resources = template.toJSON().Resources as Record<string, Resource>;
  const matches = Object.entries(resources)
    .filter(([, r]) => r.Metadata?.['aws:cdk:path'] === `Csms/${constructPath}`)
    .map(([id]) => id);
  if (matches.length !== 1) {
    throw new Error(`expected one resource at Csms/${constructPath}, found ${matches.length}`);
  }
  return matches[0];
}

export function resource(template: Template, constructPath: string): Resource {
  return template.toJSON().Resources[logicalId(template, constructPath)];
}

export function resourcesOfType(template: Template, type: string): Record<string, Resource> {
  return template.findResources(type) as Record<string, Resource>;
}

/** Logical ids referenced (Ref / Fn::GetAtt) anywhere inside a JSON value. */
export function referencedIds(value: unknown): Set<string> {
  const ids = new Set<string>();
  const walk = (v: unknown) => {
    if (Array.isArray(v)) {
      v.forEach(walk);
    } else if (v && typeof v === 'object') {
      for (const [k, inner] of Object.entries(v)) {
        if (k === 'Ref' && typeof inner === 'string' && !inner.startsWith('AWS::')) ids.add(inner);
        else if (k === 'Fn::GetAtt' && Array.isArray(inner)) ids.add(String(inner[0]));
        else walk(inner);
      }
    }
  };
  walk(value);
  return ids;
}

export const FUNCTIONS = [
  'ConnectFunction', 'MessageFunction', 'DisconnectFunction', 'StatusFunction', 'SessionsFunction',
  'CommandsFunction', 'ApiFunction',
];

/** Construct ids of the dead-letter queues. */
export const DEAD_LETTER_QUEUES = [
  'StatusDeadLetterQueue', 'SessionEventsDeadLetterQueue', 'SessionCompletedDeadLetterQueue', 'CommandsDeadLetterQueue',
  'CommandDeadlinesDeadLetterQueue',
];

/** Construct ids of the tables. */
export const TABLE_IDS = [
  'StationsTable', 'ConnectionsTable', 'AvailabilityTable', 'StatusHistoryTable', 'StationEventsTable', 'TokensTable',
  'TransactionsTable', 'AnomaliesTable', 'SessionsTable', 'MeterSeriesTable', 'CommandsTable', 'OrganisationsTable',
];
