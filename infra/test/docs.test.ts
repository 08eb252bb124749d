import * as fs from 'fs';
import * as path from 'path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { buildApp } from '../lib/app';
import { SETTINGS } from '../lib/config';

/**
 * The documentation against the code, so that they cannot drift apart again: the settings, the
 * outputs, the resources and environment variables, the alarms and their runbooks, and every count
 * a reader is told, are read from the synthesized templates (the local file's defaults and the
 * example file's every setting, with its edge stack) and compared with what the Markdown says.
 */

const ROOT = path.join(__dirname, '..', '..');
const read = (file: string) => fs.readFileSync(path.join(ROOT, file), 'utf8');

type Resources = Record<string, { Type: string; Properties?: any; Metadata?: any }>;
type Synthesized = { Resources: Resources; Outputs?: Record<string, unknown> };

function stacks(env: string): { main: Synthesized; edge?: Synthesized } {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [], 'aws:cdk:enable-path-metadata': true, env } });
  const built = buildApp(app, { deploying: false });
  const json = (t: Template) => t.toJSON() as Synthesized;
  return { main: json(Template.fromStack(built.main)), edge: built.edge ? json(Template.fromStack(built.edge)) : undefined };
}
const local = stacks('local');
const example = stacks('example');

const constructId = (r: { Metadata?: any }) => String(r.Metadata?.['aws:cdk:path'] ?? '').split('/')[1];
const ofType = (t: { Resources: Resources }, type: string) => Object.values(t.Resources).filter((r) => r.Type === type);
const ids = (t: { Resources: Resources }, type: string) => ofType(t, type).map(constructId);
const deadLetterQueues = (t: { Resources: Resources }) => {
  const targets = new Set(
    ofType(t, 'AWS::SQS::Queue').map((q) => q.Properties?.RedrivePolicy?.deadLetterTargetArn?.['Fn::GetAtt']?.[0]).filter(Boolean),
  );
  return Object.entries(t.Resources).filter(([logical]) => targets.has(logical)).map(([, r]) => constructId(r));
};
const tables = ids(local.main, 'AWS::DynamoDB::Table');
const functions = ofType(local.main, 'AWS::Lambda::Function').filter((f) => f.Properties.Handler === 'bootstrap').map(constructId);
const dlqs = deadLetterQueues(local.main);
const queues = ids(local.main, 'AWS::SQS::Queue').filter((q) => !dlqs.includes(q));

/** The backticked first cells of the Markdown table that follows `heading` in `text`. */
function tableKeys(text: string, heading: RegExp): string[] {
  const start = text.search(heading);
  expect(start).toBeGreaterThanOrEqual(0);
  const lines = text.slice(start).split('\n');
  const first = lines.findIndex((l) => l.startsWith('|'));
  const keys: string[] = [];
  for (const line of lines.slice(first)) {
    if (!line.startsWith('|')) break;
    const cell = line.split('|')[1].trim();
    for (const m of cell.matchAll(/`([^`]+)`/g)) keys.push(m[1]);
  }
  return keys;
}

describe('docs/deploy.md', () => {
  const deploy = read('docs/deploy.md');

  test('documents exactly the settings lib/config.ts reads', () => {
    expect(tableKeys(deploy, /^### Settings$/m).sort()).toEqual(Object.keys(SETTINGS).sort());
  });

  test('documents exactly the outputs the stacks have (with every setting, and by default)', () => {
    const outputs = new Set([
      ...Object.keys(local.main.Outputs ?? {}),
      ...Object.keys(example.main.Outputs ?? {}),
      ...Object.keys(example.edge?.Outputs ?? {}),
    ]);
    const documented = tableKeys(deploy, /^The outputs/m).flatMap((key) =>
      key === '<Table>Name' ? tables.map((t) => `${t}Name`) : [key],
    );
    expect(documented.sort()).toEqual([...outputs].sort());
  });
});

describe('ARCHITECTURE.md', () => {
  const architecture = read('ARCHITECTURE.md');
  const resources = architecture.slice(architecture.indexOf('## Resources'), architecture.indexOf('## Decisions'));

  test.each([
    ['tables', tables],
    ['queues', queues],
    ['functions', functions],
  ])('the Resources table names every one of the %s', (_, names) => {
    expect(names.length).toBeGreaterThan(0);
    expect(names.filter((n) => !resources.includes(`\`${n}\``))).toEqual([]);
  });

  test('the Resources section names every environment variable the functions are given', () => {
    const variables = new Set(
      ofType(local.main, 'AWS::Lambda::Function').flatMap((f) => Object.keys(f.Properties.Environment?.Variables ?? {})),
    );
    expect([...variables].filter((v) => !new RegExp('`' + v + '[`=]').test(resources))).toEqual([]);
  });
});

describe('docs/operations.md: a runbook for every alarm', () => {
  const operations = read('docs/operations.md');
  const headings = [...operations.matchAll(/^#### (.+)$/gm)].map((m) => m[1].replace(/`/g, '').trim());
  /** An alarm id with its resource's construct id turned into the pattern its runbook names. */
  const pattern = (alarmId: string) => {
    const groups: Array<[string[], string]> = [
      [dlqs, '<DeadLetterQueue>'],
      [tables, '<Table>'],
      [functions, '<Function>'],
      [queues, '<Queue>'],
    ];
    for (const [names, placeholder] of groups) {
      const found = names.find((n) => alarmId.startsWith(n) && /^[A-Z0-9]/.test(alarmId.slice(n.length)));
      if (found) return placeholder + alarmId.slice(found.length);
    }
    return alarmId;
  };
  const alarmIds = [local.main, example.main, example.edge!].flatMap((t) =>
    ofType(t, 'AWS::CloudWatch::Alarm').map((a) => String(a.Properties.AlarmName).replace(/^csms-[a-z0-9-]+?-(?=[A-Z<])/, '')),
  );

  test('every alarm of the stacks has its runbook', () => {
    const missing = [...new Set(alarmIds.map(pattern))].filter((p) => !headings.includes(p));
    expect(missing).toEqual([]);
  });

  test('no runbook for an alarm that does not exist', () => {
    const patterns = new Set(alarmIds.map(pattern));
    expect(headings.filter((h) => !patterns.has(h))).toEqual([]);
  });

  test('every runbook says what it means, how to look, and what to do', () => {
    const sections = operations.split(/^#### /m).slice(1);
    for (const section of sections) {
      const title = section.split('\n')[0];
      expect([title, /^Means\b[^:\n]*:/m.test(section), /^Look:/m.test(section), /^Do:/m.test(section)]).toEqual([title, true, true, true]);
    }
  });
});

describe('counts and variables a reader is told', () => {
  const WORDS: Record<string, number> = {
    one: 1, two: 2, three: 3, four: 4, five: 5, six: 6, seven: 7, eight: 8, nine: 9, ten: 10, eleven: 11, twelve: 12,
  };
  const alarms = ofType(local.main, 'AWS::CloudWatch::Alarm');
  const alarmMetrics = alarms.reduce((n, a) => n + ((a.Properties.Metrics ?? []).filter((m: any) => m.MetricStat).length || 1), 0);
  const actual: Record<string, number> = {
    tables: tables.length,
    functions: functions.length,
    queues: queues.length,
    'dead-letter queues': dlqs.length,
    alarms: alarms.length,
    'alarm metrics': alarmMetrics,
  };

  test.each(['README.md', 'docs/deploy.md', 'docs/operations.md'])('%s: every "N tables / functions / queues / alarms" is right', (file) => {
    const text = read(file);
    const claims = [...text.matchAll(/\b(\d+|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve) (tables|functions|dead-letter queues|queues|alarms|alarm metrics)\b/gi)];
    for (const [claim, n, what] of claims) {
      const number = /^\d+$/.test(n) ? Number(n) : WORDS[n.toLowerCase()];
      expect([claim, number]).toEqual([claim, actual[what.toLowerCase()]]);
    }
  });

  test('README names all of the table variables or none', () => {
    const variables = new Set(
      ofType(local.main, 'AWS::Lambda::Function').flatMap((f) => Object.keys(f.Properties.Environment?.Variables ?? {})),
    );
    const tableVariables = [...variables].filter((v) => v.endsWith('_TABLE')).sort();
    const named = [...new Set([...read('README.md').matchAll(/`([A-Z_]+_TABLE)`/g)].map((m) => m[1]))].sort();
    if (named.length) expect(named).toEqual(tableVariables);
  });
});

describe('links stay inside the repository', () => {
  const markdown = (dir: string): string[] =>
    fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? markdown(path.join(dir, e.name)) : e.name.endsWith('.md') ? [path.join(dir, e.name)] : [],
    );
  const files = ['README.md', 'ARCHITECTURE.md', 'CHANGELOG.md', ...markdown('docs')];

  test.each(files)('%s: relative links resolve, nothing points outside the repository', (file) => {
    const text = read(file);
    expect(text).not.toMatch(/\/work\/|file:\/\/|~\/\S+\.md/);
    for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^(https?:|mailto:|#)/.test(target)) continue;
      const resolved = path.resolve(path.dirname(path.join(ROOT, file)), target.split('#')[0]);
      expect([target, resolved.startsWith(ROOT + path.sep) && fs.existsSync(resolved)]).toEqual([target, true]);
    }
  });
});
