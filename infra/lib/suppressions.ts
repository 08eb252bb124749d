import { CfnResource } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/**
 * A checkov check we skip on one resource, and why. Checkov reads
 * `Metadata.checkov.skip: [{id, comment}]` on the CloudFormation resource; every skip must say
 * why it is right for this resource, next to where the resource is defined.
 */
export interface Skip {
  readonly id: string;
  readonly reason: string;
}

function cfnResource(construct: IConstruct): CfnResource {
  const resource = CfnResource.isCfnResource(construct) ? construct : construct.node.defaultChild;
  if (!resource || !CfnResource.isCfnResource(resource)) {
    throw new Error(`${construct.node.path} has no CloudFormation resource to annotate`);
  }
  return resource;
}

/** Adds checkov skips to the construct's CloudFormation resource (merging with earlier ones). */
export function skipCheckov(construct: IConstruct, ...skips: Skip[]): void {
  const resource = cfnResource(construct);
  const existing = (resource.getMetadata('checkov') as { skip: Array<{ id: string; comment: string }> } | undefined) ?? { skip: [] };
  const ids = new Set(existing.skip.map((s) => s.id));
  for (const skip of skips) {
    if (!skip.reason.trim()) throw new Error(`checkov skip ${skip.id} on ${construct.node.path} needs a reason`);
    if (!ids.has(skip.id)) existing.skip.push({ id: skip.id, comment: skip.reason });
    ids.add(skip.id);
  }
  resource.addMetadata('checkov', existing);
}

/**
 * A cfn-lint rule we ignore on one resource, and why (cfn-lint reads
 * `Metadata.cfn-lint.config.ignore_checks`; the reason stays here, in code).
 */
export function ignoreCfnLint(construct: IConstruct, rule: string, reason: string): void {
  if (!reason.trim()) throw new Error(`cfn-lint ignore ${rule} on ${construct.node.path} needs a reason`);
  const resource = cfnResource(construct);
  const existing = (resource.getMetadata('cfn-lint') as { config: { ignore_checks: string[] } } | undefined) ?? {
    config: { ignore_checks: [] },
  };
  if (!existing.config.ignore_checks.includes(rule)) existing.config.ignore_checks.push(rule);
  resource.addMetadata('cfn-lint', existing);
}

/**
 * Lint suppressions for the Lambda functions aws-cdk-lib writes into a template for its own
 * custom resources (the cross-region export writer and reader of the edge stack's reference).
 * They appear while references are resolved, after the stack's code and its aspects have run, so
 * stacks apply this to their rendered template (`_toCloudFormation`).
 */
export function annotateCdkProviderFunctions(template: any): any {
  for (const [logicalId, resource] of Object.entries((template?.Resources ?? {}) as Record<string, any>)) {
    if (resource.Type !== 'AWS::Lambda::Function' || !logicalId.includes('CustomResourceProvider')) continue;
    resource.Metadata = {
      ...resource.Metadata,
      checkov: {
        skip: [
          { id: 'CKV_AWS_115', comment: 'aws-cdk-lib\'s own custom resource handler: runs only during stack deployments, once per change.' },
          { id: 'CKV_AWS_116', comment: 'aws-cdk-lib\'s own custom resource handler: CloudFormation invokes it synchronously and reports its failures.' },
          { id: 'CKV_AWS_117', comment: 'aws-cdk-lib\'s own custom resource handler: reaches only the SSM Parameter Store API; a VPC would add NAT costs.' },
          { id: 'CKV_AWS_173', comment: 'aws-cdk-lib\'s own custom resource handler: it has no environment variables at all, so nothing to encrypt.' },
        ],
      },
      'cfn-lint': {
        config: {
          ignore_checks: ['W3005'],
        },
      },
    };
  }
  return template;
}
