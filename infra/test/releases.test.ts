import { Template } from 'aws-cdk-lib/assertions';
import { DEPLOYMENT_CONFIGS } from '../lib/releases';
import { FUNCTIONS, liveAliasName, logicalId, referencedIds, resource, resourcesOfType, synth } from './template';

const template: Template = synth();
const id = (p: string) => logicalId(template, p);
const functionIds = Object.keys(resourcesOfType(template, 'AWS::Lambda::Function'));
const aliasIds = Object.keys(resourcesOfType(template, 'AWS::Lambda::Alias'));

describe('every function behind a live alias, shifted by CodeDeploy', () => {
  test('one alias `live` and one published version per function of the template', () => {
    expect(functionIds).toHaveLength(FUNCTIONS.length);
    for (const fnId of functionIds) {
      const aliases = Object.values(resourcesOfType(template, 'AWS::Lambda::Alias')).filter((a) => a.Properties.FunctionName.Ref === fnId);
      expect(aliases).toHaveLength(1);
      const [alias] = aliases;
      expect(alias.Properties.Name).toBe('live');
      const [versionId, attribute] = alias.Properties.FunctionVersion['Fn::GetAtt'];
      expect(attribute).toBe('Version');
      const version = template.toJSON().Resources[versionId];
      expect(version.Type).toBe('AWS::Lambda::Version');
      expect(version.Properties.FunctionName).toEqual({ Ref: fnId });
      // Old versions stay published, so the alias can be pointed back at one without a build.
      expect(version.DeletionPolicy).toBe('Retain');
    }
  });

  test.each(FUNCTIONS)('%s: a deployment group on its alias, canary by default, rolled back by its error alarm', (fn) => {
    const group = resource(template, `Releases/${fn}/Resource`).Properties;
    expect(group.ApplicationName).toEqual({ Ref: id('Releases/Application/Resource') });
    expect(group.DeploymentConfigName).toBe('CodeDeployDefault.LambdaCanary10Percent5Minutes');
    expect(group.DeploymentStyle).toEqual({ DeploymentOption: 'WITH_TRAFFIC_CONTROL', DeploymentType: 'BLUE_GREEN' });
    expect(group.AlarmConfiguration).toEqual({ Enabled: true, Alarms: [{ Name: { Ref: id(`Alarms/${fn}Errors/Resource`) } }] });
    expect(group.AutoRollbackConfiguration).toEqual({
      Enabled: true,
      Events: expect.arrayContaining(['DEPLOYMENT_FAILURE', 'DEPLOYMENT_STOP_ON_REQUEST', 'DEPLOYMENT_STOP_ON_ALARM']),
    });
    expect(group.ServiceRoleArn).toEqual({ 'Fn::GetAtt': [id('Releases/Role/Resource'), 'Arn'] });
    // CloudFormation hands the alias update to this group.
    const alias = resource(template, `${fn}/Live/Resource`);
    expect((alias as any).UpdatePolicy).toEqual({
      CodeDeployLambdaAliasUpdate: {
        ApplicationName: { Ref: id('Releases/Application/Resource') },
        DeploymentGroupName: { Ref: id(`Releases/${fn}/Resource`) },
      },
    });
  });

  test('the error alarm watches every version of the function (the FunctionName dimension)', () => {
    const alarm = resource(template, 'Alarms/MessageFunctionErrors/Resource').Properties;
    expect(alarm.Dimensions).toEqual([{ Name: 'FunctionName', Value: { Ref: id('MessageFunction/Resource') } }]);
  });

  test('linear and all-at-once from the deployment setting', () => {
    const linear = synth({ deployment: 'linear' });
    for (const fn of FUNCTIONS) {
      expect(resource(linear, `Releases/${fn}/Resource`).Properties.DeploymentConfigName).toBe('CodeDeployDefault.LambdaLinear10PercentEvery1Minute');
    }
    expect(DEPLOYMENT_CONFIGS['all-at-once'].deploymentConfigName).toBe('CodeDeployDefault.LambdaAllAtOnce');
  });

  test('one CodeDeploy service role, with CodeDeploy\'s limited policy for Lambda only', () => {
    const role = resource(template, 'Releases/Role/Resource').Properties;
    expect(role.AssumeRolePolicyDocument.Statement).toEqual([
      expect.objectContaining({ Principal: { Service: 'codedeploy.amazonaws.com' }, Action: 'sts:AssumeRole' }),
    ]);
    expect(JSON.stringify(role.ManagedPolicyArns).match(/policy\/[\w/-]+/g)).toEqual(['policy/service-role/AWSCodeDeployRoleForLambdaLimited']);
    template.resourceCountIs('AWS::CodeDeploy::Application', 1);
    template.resourceCountIs('AWS::CodeDeploy::DeploymentGroup', FUNCTIONS.length);
  });
});

describe('every caller invokes an alias, never a function (which would run $LATEST and skip the canary)', () => {
  test('event source mappings', () => {
    const mappings = Object.values(resourcesOfType(template, 'AWS::Lambda::EventSourceMapping'));
    expect(mappings.length).toBeGreaterThan(0);
    for (const m of mappings) {
      const [target] = [...referencedIds(m.Properties.FunctionName)];
      expect(aliasIds).toContain(target);
      const fn = template.toJSON().Resources[target].Properties.FunctionName.Ref;
      const construct = template.toJSON().Resources[fn].Metadata['aws:cdk:path'].split('/')[1];
      expect(m.Properties.FunctionName).toEqual(liveAliasName(template, construct));
    }
  });

  test('API Gateway integrations and their invoke permissions', () => {
    const integrations = Object.values(resourcesOfType(template, 'AWS::ApiGatewayV2::Integration'));
    expect(integrations.length).toBeGreaterThan(0);
    for (const i of integrations) {
      const targets = [...referencedIds(i.Properties.IntegrationUri)];
      expect(targets).toHaveLength(1);
      expect(aliasIds).toContain(targets[0]);
    }
    for (const p of Object.values(resourcesOfType(template, 'AWS::Lambda::Permission'))) {
      expect(aliasIds).toContain(p.Properties.FunctionName.Ref);
    }
  });

  test('nothing else names a function\'s ARN (versions, aliases and grants aside)', () => {
    const resources = template.toJSON().Resources as Record<string, any>;
    for (const [logical, r] of Object.entries(resources)) {
      if (['AWS::Lambda::Version', 'AWS::Lambda::Alias', 'AWS::CloudWatch::Alarm', 'AWS::CloudWatch::Dashboard'].includes(r.Type)) continue;
      const named = [...referencedIds(r.Properties ?? {})].filter((ref) => functionIds.includes(ref));
      expect([logical, named]).toEqual([logical, []]);
    }
  });
});
