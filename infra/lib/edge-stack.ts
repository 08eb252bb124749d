import { Aws, Duration, Stack, StackProps, Tags } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { CsmsConfig } from './config';
import { annotateCdkProviderFunctions, skipCheckov } from './suppressions';

export interface CsmsEdgeStackProps extends StackProps {
  readonly config: CsmsConfig;
  /** The pile door's distribution (in the main stack; its id arrives as a cross-region reference). */
  readonly distribution: cloudfront.IDistribution;
  /** The name of the pile door's CloudFront Function. */
  readonly rewriteFunctionName: string;
}

/** 5xx answers above this share of the pile door's requests, for 10 minutes, fire the alarm. */
export const EDGE_5XX_PERCENT = 5;

/**
 * The pile door's edge alarms, in us-east-1: CloudFront publishes its metrics only there, and an
 * alarm watches metrics of its own region only. Its own SNS topic (an alarm notifies a topic of its
 * own region), with the same email subscription as the main stack's.
 */
export class CsmsEdgeStack extends Stack {
  public readonly topic: sns.Topic;
  public readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: CsmsEdgeStackProps) {
    super(scope, id, props);
    const { config } = props;
    const prefix = `csms-${config.environment}`;
    Tags.of(this).add('Project', 'csms');
    Tags.of(this).add('Environment', config.environment);

    this.topic = new sns.Topic(this, 'EdgeAlarmTopic', {
      displayName: `CSMS ${config.environment} edge alarms`,
      enforceSSL: true,
    });
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarms',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: {
          ArnLike: { 'aws:SourceArn': `arn:${Aws.PARTITION}:cloudwatch:${Aws.REGION}:${Aws.ACCOUNT_ID}:alarm:*` },
          StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
        },
      }),
    );
    skipCheckov(this.topic, {
      id: 'CKV_AWS_26',
      reason:
        'CloudWatch alarms cannot publish to a topic encrypted with the AWS-managed aws/sns key, and a customer-managed ' +
        'key costs $1/month for notifications that carry only alarm names and states, no data.',
    });
    if (config.alarmEmail) {
      this.topic.addSubscription(new subscriptions.EmailSubscription(config.alarmEmail));
    }

    const cloudFrontMetric = (metricName: string, dimensionsMap: Record<string, string>, statistic: string) =>
      new cloudwatch.Metric({ namespace: 'AWS/CloudFront', metricName, dimensionsMap, statistic, period: Duration.minutes(5) });
    const alarm = (alarmId: string, description: string, props: Omit<cloudwatch.AlarmProps, 'alarmName' | 'alarmDescription'>) => {
      const created = new cloudwatch.Alarm(this, alarmId, {
        alarmName: `${prefix}-${alarmId}`,
        alarmDescription: description,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        ...props,
      });
      created.addAlarmAction(new actions.SnsAction(this.topic));
      created.addOkAction(new actions.SnsAction(this.topic));
      this.alarms.push(created);
      return created;
    };

    // 5xx from CloudFront: the WebSocket API unreachable or failing the handshake (502/503/504),
    // or CloudFront itself. The pile door's 4xx (malformed ids, refused handshakes) are piles'.
    alarm('OcppDistribution5xx', `Pile door (CloudFront): more than ${EDGE_5XX_PERCENT} % of requests answered 5xx for 10 minutes`, {
      metric: cloudFrontMetric('5xxErrorRate', { DistributionId: props.distribution.distributionId, Region: 'Global' }, 'Average'),
      threshold: EDGE_5XX_PERCENT,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 2,
    });
    // The path rewrite failing (an exception, or an invalid result): the pile gets a 503.
    alarm('OcppPathRewriteErrors', 'Pile door: the CloudFront Function that moves the station id failed', {
      metric: new cloudwatch.MathExpression({
        expression: 'FILL(e, 0) + FILL(v, 0)',
        usingMetrics: {
          e: cloudFrontMetric('FunctionExecutionErrors', { FunctionName: props.rewriteFunctionName, Region: 'Global' }, 'Sum'),
          v: cloudFrontMetric('FunctionValidationErrors', { FunctionName: props.rewriteFunctionName, Region: 'Global' }, 'Sum'),
        },
        label: 'function errors',
        period: Duration.minutes(5),
      }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
    });
  }

  /** CDK's own custom resource functions get their lint suppressions (lib/suppressions.ts). */
  protected _toCloudFormation(): any {
    return annotateCdkProviderFunctions(super._toCloudFormation());
  }
}
