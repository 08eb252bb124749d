import { Stack } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as logs from 'aws-cdk-lib/aws-logs';
import { CsmsConfig } from './config';
import { skipCheckov } from './suppressions';

/**
 * A log group of this stack (a function's logs or an API stage's access logs): retention from
 * `-c logRetentionDays` (default 30 days), removed or kept with the stack's removal policy.
 */
export function logGroup(stack: Stack, id: string, config: CsmsConfig): logs.LogGroup {
  const group = new logs.LogGroup(stack, id, {
    retention: config.logRetention,
    removalPolicy: config.removalPolicy,
  });
  skipCheckov(group, {
    id: 'CKV_AWS_158',
    reason:
      'CloudWatch Logs encrypts every log group at rest already; a customer-managed key would add $1/month ' +
      'and a key policy to keep, and the logs hold no credentials (nothing logs a password or a token).',
  });
  return group;
}

/** One JSON object per request, from `$context` variables (values are strings). */
export function jsonAccessLogFormat(fields: Record<string, string>): apigw.AccessLogFormat {
  return apigw.AccessLogFormat.custom(JSON.stringify(fields));
}
