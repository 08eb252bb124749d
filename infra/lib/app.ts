import { App } from 'aws-cdk-lib';
import { CsmsConfig, SETTINGS, SettingsError, configFromSettings, readSettingsFile } from './config';
import { CsmsStack } from './csms-stack';
import { CsmsEdgeStack } from './edge-stack';

export interface CsmsApp {
  readonly config: CsmsConfig;
  readonly main: CsmsStack;
  /** Only for an environment with an account and region. */
  readonly edge?: CsmsEdgeStack;
}

/**
 * The stacks of one environment, from `infra/env/<name>.json` chosen with `-c env=<name>`.
 *
 * Refuses (SettingsError) a missing or unknown environment, a setting given with `-c` instead of
 * in the file, an invalid setting, and a deployable synth (`deploying`: bundling on, as for
 * `cdk diff` and `cdk deploy`) of a file without account and region.
 */
export function buildApp(app: App, options: { deploying: boolean; settingsDir?: string }): CsmsApp {
  // Settings come from one file per environment: never from a row of `-c` flags that the next
  // deploy may forget.
  const stray = [...Object.keys(SETTINGS), 'environment'].filter((key) => app.node.tryGetContext(key) !== undefined);
  if (stray.length) {
    throw new SettingsError(
      `-c ${stray.join(', -c ')}: settings are read only from infra/env/<name>.json (chosen with -c env=<name>); put them in that file`,
    );
  }
  const { environment, settings, source } = readSettingsFile(app.node.tryGetContext('env'), options.settingsDir);
  const config = configFromSettings(environment, settings, source);
  if (options.deploying && (!config.account || !config.region)) {
    // A template without an account and region (infra/env/local.json, for the local stack and the
    // tests) would go wherever the shell's credentials point.
    throw new SettingsError(`${source} names no account and region, so it cannot be deployed or diffed: add both to the file`);
  }

  // The construct id stays `Csms` (cdk.out/Csms.template.json, which the local stand-in and the lint
  // read); the CloudFormation stack is named after the environment, so prod and staging deploy side
  // by side in one account.
  const env = config.account && config.region ? { account: config.account, region: config.region } : undefined;
  const main = new CsmsStack(app, 'Csms', {
    config,
    env,
    stackName: `csms-${environment}`,
    description: `Serverless OCPP CSMS (${environment}): pile door (CloudFront + WebSocket API), app door (Cognito + HTTP API), functions, tables, queues, alarms`,
    // The edge stack in us-east-1 reads the distribution's id.
    crossRegionReferences: env !== undefined,
  });
  if (!env) return { config, main };

  // CloudFront's metrics exist only in us-east-1, and an alarm watches its own region only: the
  // pile door's edge alarms live in a small stack there.
  const edge = new CsmsEdgeStack(app, 'CsmsEdge', {
    config,
    distribution: main.pileDoor.distribution,
    rewriteFunctionName: main.pileDoor.rewriteFunctionName,
    env: { account: env.account, region: 'us-east-1' },
    stackName: `csms-${environment}-edge`,
    description: `Serverless OCPP CSMS (${environment}): alarms on the pile door's CloudFront distribution (us-east-1 metrics)`,
    crossRegionReferences: true,
  });
  return { config, main, edge };
}
