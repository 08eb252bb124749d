import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { CsmsConfig, DeploymentStrategy } from './config';

/**
 * The alias every caller invokes (API Gateway routes, SQS event source mappings). A deploy
 * publishes a new version and CodeDeploy moves this alias to it gradually; the previous version
 * stays published, so the alias can be pointed back at it without a build (docs/operations.md).
 */
export const LIVE_ALIAS = 'live';

const aliases = new WeakMap<lambda.Function, lambda.Alias>();

/**
 * The function's `live` alias (made on first use, as `<FunctionId>/Live`). Wire routes and event
 * sources to it, never to the function: a caller of the function itself would run `$LATEST` and
 * skip the gradual deployment (test/releases.test.ts fails on such a caller).
 */
export function live(fn: lambda.Function): lambda.Alias {
  let alias = aliases.get(fn);
  if (!alias) {
    alias = new lambda.Alias(fn, 'Live', { aliasName: LIVE_ALIAS, version: fn.currentVersion });
    aliases.set(fn, alias);
  }
  return alias;
}

/** CodeDeploy's predefined configurations for the `deployment` setting. */
export const DEPLOYMENT_CONFIGS: Record<DeploymentStrategy, codedeploy.ILambdaDeploymentConfig> = {
  canary: codedeploy.LambdaDeploymentConfig.CANARY_10PERCENT_5MINUTES,
  linear: codedeploy.LambdaDeploymentConfig.LINEAR_10PERCENT_EVERY_1MINUTE,
  'all-at-once': codedeploy.LambdaDeploymentConfig.ALL_AT_ONCE,
};

/**
 * One CodeDeploy deployment group per function (all of them, so a function added later is covered
 * without anyone remembering): its `live` alias shifts to a new version as the `deployment`
 * setting says, and rolls back by itself when the function's error alarm fires during the shift,
 * or when the deployment fails or is stopped.
 */
export function addGradualDeployments(
  stack: Stack,
  functions: Record<string, lambda.Function>,
  errorAlarms: Record<string, cloudwatch.IAlarm>,
  config: CsmsConfig,
): Record<string, codedeploy.LambdaDeploymentGroup> {
  const scope = new Construct(stack, 'Releases');
  const application = new codedeploy.LambdaApplication(scope, 'Application', {
    applicationName: `csms-${config.environment}`,
  });
  // One service role for every group (CodeDeploy's own managed policy for Lambda: update the
  // alias, read the alarms), rather than one role per function.
  const role = new iam.Role(scope, 'Role', {
    description: 'CodeDeploy: shifts the functions\' live aliases to new versions and rolls them back',
    assumedBy: new iam.ServicePrincipal('codedeploy.amazonaws.com'),
    managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSCodeDeployRoleForLambdaLimited')],
    maxSessionDuration: Duration.hours(1),
  });
  const groups: Record<string, codedeploy.LambdaDeploymentGroup> = {};
  for (const [id, fn] of Object.entries(functions)) {
    const alarm = errorAlarms[id];
    if (!alarm) throw new Error(`${id} has no error alarm to roll its deployments back on`);
    groups[id] = new codedeploy.LambdaDeploymentGroup(scope, id, {
      application,
      deploymentGroupName: id,
      alias: live(fn),
      deploymentConfig: DEPLOYMENT_CONFIGS[config.deployment],
      alarms: [alarm],
      role,
      autoRollback: { failedDeployment: true, stoppedDeployment: true, deploymentInAlarm: true },
    });
  }
  return groups;
}
