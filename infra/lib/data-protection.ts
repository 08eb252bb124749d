import { CfnResource, Duration, Stack } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as events from 'aws-cdk-lib/aws-events';
import { CsmsConfig } from './config';
import { Inventory } from './inventory';
import { skipCheckov } from './suppressions';

/**
 * Resource types that hold data someone would miss: every resource of these types in the stack
 * follows the `removalPolicy` setting. S3 buckets are not among them: the only ones (web app
 * builds) are rebuilt from the repository.
 */
export const STATEFUL_TYPES = [
  'AWS::DynamoDB::Table',
  'AWS::DynamoDB::GlobalTable',
  'AWS::Cognito::UserPool',
  'AWS::Logs::LogGroup',
  'AWS::Backup::BackupVault',
];

/**
 * Keeps data when the stack goes, and backs it up when asked.
 *
 * With `removalPolicy: "retain"` every stateful resource gets DeletionPolicy RetainExceptOnCreate
 * and UpdateReplacePolicy Retain: CloudFormation never deletes a created table, pool or log group
 * (stack deletion, replacement), yet removes one whose own creation is rolled back, so a failed
 * first deploy leaves no orphans. Applied to the whole stack, so a new table is covered without
 * anyone remembering.
 *
 * With `backupRetentionDays`, an AWS Backup plan backs up every table once a day (03:00 UTC) into
 * the stack's vault and keeps each backup that many days; PITR (35 days, on every table) stays
 * the first way back.
 */
export function keepData(stack: Stack, found: Inventory, config: CsmsConfig): backup.BackupPlan | undefined {
  let plan: backup.BackupPlan | undefined;
  if (config.backupRetentionDays) {
    const vault = new backup.BackupVault(stack, 'BackupVault', {
      backupVaultName: `csms-${config.environment}`,
    });
    skipCheckov(vault, {
      id: 'CKV_AWS_166',
      reason:
        'Recovery points are encrypted with the AWS Backup managed key; a customer-managed key costs $1/month and ' +
        'must outlive every backup (deleting it would make them unreadable), for data already encrypted at rest.',
    });
    plan = new backup.BackupPlan(stack, 'BackupPlan', {
      backupPlanName: `csms-${config.environment}`,
      backupVault: vault,
      backupPlanRules: [
        new backup.BackupPlanRule({
          ruleName: 'Daily',
          scheduleExpression: events.Schedule.cron({ minute: '0', hour: '3' }),
          deleteAfter: Duration.days(config.backupRetentionDays),
        }),
      ],
    });
    plan.addSelection('Tables', {
      resources: Object.values(found.tables).map(({ table }) => backup.BackupResource.fromDynamoDbTable(table)),
      allowRestores: true,
    });
  }

  for (const child of stack.node.findAll()) {
    if (CfnResource.isCfnResource(child) && STATEFUL_TYPES.includes(child.cfnResourceType)) {
      child.applyRemovalPolicy(config.removalPolicy);
    }
  }
  return plan;
}
