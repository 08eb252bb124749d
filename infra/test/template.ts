import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { configFromSettings } from '../lib/config';
import { CsmsStack } from '../lib/csms-stack';

/** A fresh app the way `npm run synth` makes one: bundling off, path metadata on. */
export function testApp(): App {
  return new App({
    context: {
      'aws:cdk:bundling-stacks': [],
      'aws:cdk:enable-path-metadata': true,
    },
  });
}

/**
 * Synthesizes the stack the way `npm run synth` does: bundling off (no Rust build; the same
 * context key bin/csms.ts sets), path metadata on so resources are found by construct id, as the
 * local stand-in finds them. `settings` are a settings file's keys; `environment` (default `dev`)
 * stands for the file's name.
 */
export function synth(settings: Record<string, unknown> = {}): Template {
  const { environment = 'dev', ...rest } = settings;
  const config = configFromSettings(String(environment), rest, 'test settings');
  const app = testApp();
  const env = config.account && config.region ? { account: config.account, region: config.region } : undefined;
  return Template.fromStack(new CsmsStack(app, 'Csms', { config, env }));
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

/** The name an event source mapping gives its target: the function's `live` alias (`<name>:live`). */
export function liveAliasName(template: Template, fn: string): unknown {
  return {
    'Fn::Join': ['', [{ 'Fn::Select': [6, { 'Fn::Split': [':', { Ref: logicalId(template, `${fn}/Live/Resource`) }] }] }, ':live']],
  };
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
  'CommandsFunction', 'ApiFunction', 'ReservationsFunction',
];

/** Construct ids of the dead-letter queues. */
export const DEAD_LETTER_QUEUES = [
  'StatusDeadLetterQueue', 'SessionEventsDeadLetterQueue', 'SessionCompletedDeadLetterQueue', 'CommandsDeadLetterQueue',
  'CommandDeadlinesDeadLetterQueue', 'ReservationEventsDeadLetterQueue', 'ReservationExpiryDeadLetterQueue',
];

/** Construct ids of the queues a function consumes (SessionCompletedQueue waits for billing). */
export const CONSUMED_QUEUES = ['StatusQueue', 'SessionEventsQueue', 'CommandsQueue', 'CommandDeadlinesQueue', 'ReservationEventsQueue'];

/** Construct ids of the tables. */
export const TABLE_IDS = [
  'StationsTable', 'ConnectionsTable', 'AvailabilityTable', 'StatusHistoryTable', 'StationEventsTable', 'TokensTable',
  'TransactionsTable', 'AnomaliesTable', 'SessionsTable', 'MeterSeriesTable', 'CommandsTable', 'OrganisationsTable',
  'LimitsTable', 'ReservationsTable',
];
