import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { buildApp } from '../lib/app';

const app = new App({ context: { 'aws:cdk:bundling-stacks': [], 'aws:cdk:enable-path-metadata': true, env: 'example' } });
const { main, edge } = buildApp(app, { deploying: true });
const template = Template.fromStack(edge!);
const resources = template.toJSON().Resources as Record<string, any>;
const byPath = (p: string) => Object.entries(resources).find(([, r]) => r.Metadata?.['aws:cdk:path'] === `CsmsEdge/${p}`)!;

describe('edge stack: the pile door\'s CloudFront alarms, in us-east-1', () => {
  test('lives in us-east-1 beside the main stack\'s account', () => {
    expect(edge!.region).toBe('us-east-1');
    expect(edge!.account).toBe(main.account);
  });

  test('two alarms, to its own topic, with the email subscription', () => {
    template.resourceCountIs('AWS::CloudWatch::Alarm', 2);
    const [topicId] = byPath('EdgeAlarmTopic/Resource');
    for (const a of Object.values(template.findResources('AWS::CloudWatch::Alarm'))) {
      expect(a.Properties.AlarmActions).toEqual([{ Ref: topicId }]);
      expect(a.Properties.OKActions).toEqual([{ Ref: topicId }]);
      expect(a.Properties.AlarmName).toMatch(/^csms-example-/);
    }
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'oncall@example.com' });
  });

  test('CloudFront 5xx error rate of the pile door\'s distribution, whose id crosses regions', () => {
    const [, a] = byPath('OcppDistribution5xx/Resource');
    expect(a.Properties).toEqual(expect.objectContaining({
      Namespace: 'AWS/CloudFront', MetricName: '5xxErrorRate', Statistic: 'Average', Threshold: 5, EvaluationPeriods: 2,
    }));
    const [distribution, region] = a.Properties.Dimensions;
    expect(distribution.Name).toBe('DistributionId');
    expect(JSON.stringify(distribution.Value)).toContain('ExportsReader');
    expect(region).toEqual({ Name: 'Region', Value: 'Global' });
    // The main stack writes the distribution's id for the reader.
    const writer = Object.values(Template.fromStack(main).findResources('Custom::CrossRegionExportWriter'));
    expect(JSON.stringify(writer)).toContain('OcppDistribution');
  });

  test('the path rewrite function\'s execution and validation errors', () => {
    const [, a] = byPath('OcppPathRewriteErrors/Resource');
    const names = (a.Properties.Metrics as any[]).filter((m) => m.MetricStat).map((m) => m.MetricStat.Metric.MetricName).sort();
    expect(names).toEqual(['FunctionExecutionErrors', 'FunctionValidationErrors']);
    for (const m of (a.Properties.Metrics as any[]).filter((x) => x.MetricStat)) {
      expect(m.MetricStat.Metric.Dimensions).toEqual(expect.arrayContaining([{ Name: 'Region', Value: 'Global' }]));
      expect(JSON.stringify(m.MetricStat.Metric.Dimensions)).toContain('OcppPathRewrite');
    }
  });
});
