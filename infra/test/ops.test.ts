import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { synth } from './template';

/**
 * The operations scripts (infra/ops) against a synthesized template, dry: what they would do, in
 * order, with the counts the template has. They need bash and jq, no AWS account.
 */
const OPS = path.join(__dirname, '..', 'ops');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'csms-ops-'));
const templateFile = path.join(dir, 'Csms.template.json');
const template = synth({ backupRetentionDays: 7 }).toJSON();
fs.writeFileSync(templateFile, JSON.stringify(template));
const count = (type: string) => Object.values(template.Resources as Record<string, any>).filter((r) => r.Type === type).length;

function run(script: string, ...args: string[]): { status: number; out: string } {
  try {
    const out = execFileSync('bash', [path.join(OPS, script), ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, AWS_REGION: '' } });
    return { status: 0, out };
  } catch (e: any) {
    return { status: e.status, out: `${e.stdout}${e.stderr}` };
  }
}
/** stdout and stderr together, in the order written: the commands go to stderr. */
function dryRun(script: string, ...args: string[]): string[] {
  const out = execFileSync('bash', ['-c', `bash "$0" "$@" 2>&1`, path.join(OPS, script), ...args], { encoding: 'utf8' });
  return out.split('\n');
}
const index = (lines: string[], pattern: RegExp) => lines.findIndex((l) => pattern.test(l));

describe('teardown.sh --template --dry-run', () => {
  const lines = dryRun('teardown.sh', '--template', templateFile, '--dry-run');

  test('counts what the template holds', () => {
    expect(lines[1]).toContain(`${count('AWS::DynamoDB::Table')} tables, ${count('AWS::SQS::Queue')} queues (5 of them dead-letter queues)`);
    expect(lines[1]).toContain(`${count('AWS::CloudWatch::Alarm')} alarms, ${count('AWS::Logs::LogGroup')} log groups`);
  });

  test('in order: dead-letter queues checked, tables backed up, edge stack then stack deleted, then what they keep', () => {
    const dlqChecks = lines.filter((l) => /get-queue-attributes/.test(l));
    const backups = lines.filter((l) => /create-backup/.test(l));
    expect(dlqChecks).toHaveLength(5);
    expect(backups).toHaveLength(count('AWS::DynamoDB::Table'));
    const order = [
      index(lines, /get-queue-attributes/),
      index(lines, /create-backup/),
      index(lines, /delete-stack --region us-east-1 --stack-name <stack>-edge/),
      index(lines, /delete-stack --stack-name <stack>$/),
      index(lines, /wait stack-delete-complete --stack-name <stack>$/),
      index(lines, /update-table .*--no-deletion-protection-enabled/),
      index(lines, /delete-table/),
      index(lines, /delete-user-pool /),
      index(lines, /delete-log-group/),
      index(lines, /delete-backup-vault/),
    ];
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(lines.filter((l) => /delete-table/.test(l))).toHaveLength(count('AWS::DynamoDB::Table'));
    expect(lines.filter((l) => /delete-log-group/.test(l))).toHaveLength(count('AWS::Logs::LogGroup'));
    expect(lines).toContain('done (dry run: nothing was changed)');
  });

  test('refuses to run for real with a template alone, and without a stack', () => {
    expect(run('teardown.sh', '--template', templateFile).status).toBe(1);
    expect(run('teardown.sh').out).toMatch(/name the stack/);
  });
});

describe('restore.sh and rollback.sh --template --dry-run', () => {
  test('point-in-time restores beside the table; swap backs up, deletes, restores under the name, re-applies TTL and PITR', () => {
    const pit = dryRun('restore.sh', 'point-in-time', '--template', templateFile, '--table', 'CommandsTable', '--time', '2026-12-01T09:55:00Z', '--dry-run');
    expect(pit.join('\n')).toMatch(/restore-table-to-point-in-time --source-table-name <CommandsTable> --target-table-name <CommandsTable>-at-20261201T095500Z --restore-date-time 1796118900/);
    const swap = dryRun('restore.sh', 'swap', '--template', templateFile, '--table', 'CommandsTable', '--from', 'side', '--dry-run');
    const order = [/create-backup --table-name side/, /delete-table --table-name <CommandsTable>/, /restore-table-from-backup --target-table-name <CommandsTable>/,
      /update-continuous-backups/, /update-time-to-live .*AttributeName=expiresAt/].map((p) => index(swap, p));
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(run('restore.sh', 'swap', '--template', templateFile, '--table', 'NoSuchTable', '--from', 'x', '--dry-run').out)
      .toMatch(/the stack has no table NoSuchTable \(it has: StationsTable,/);
  });

  test('rollback moves every function\'s live alias, or the one named', () => {
    const all = dryRun('rollback.sh', '--template', templateFile, '--dry-run');
    expect(all.filter((l) => /update-alias .*--name live/.test(l))).toHaveLength(count('AWS::Lambda::Alias'));
    const one = dryRun('rollback.sh', '--template', templateFile, '--function', 'MessageFunction', '--dry-run');
    expect(one.filter((l) => /update-alias/.test(l))).toEqual(['+ aws lambda update-alias --function-name <MessageFunction> --name live --function-version <the-version-below-live>']);
    expect(run('rollback.sh', '--template', templateFile, '--function', 'Nope', '--dry-run').status).toBe(1);
  });
});
