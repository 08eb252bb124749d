#!/usr/bin/env node
import { App } from 'aws-cdk-lib';
import { environmentFromContext } from '../lib/config';
import { CsmsStack } from '../lib/csms-stack';

// Bundling = `cargo lambda build --release --arm64 --bin <name>` in the workspace root, run by
// cargo-lambda-cdk for each function when its asset is staged. A real deploy does it:
//   npx cdk bootstrap   # once per account/region
//   npx cdk deploy      # builds locally if `cargo lambda` (with zig for the cross-build) is on PATH,
//                       # otherwise in Docker (image ghcr.io/cargo-lambda/cargo-lambda)
//
// `npm run synth` only needs the template, so it sets CSMS_SKIP_BUNDLING=1 and we set the standard
// context key `aws:cdk:bundling-stacks` to [] (no stack is bundled; the asset then points at the
// workspace unbuilt). It has to go in `postCliContext`: `cdk synth/deploy` writes
// `aws:cdk:bundling-stacks = ['**']` over anything given with `-c`, and only postCliContext is applied
// after the CLI's context. Never deploy a template synthesized this way.
const skipBundling = process.env.CSMS_SKIP_BUNDLING === '1';

const app = new App({
  postCliContext: skipBundling ? { 'aws:cdk:bundling-stacks': [] } : undefined,
});

// The construct id stays `Csms` (cdk.out/Csms.template.json, which the local stand-in and the lint
// read; `npx cdk deploy Csms`); the CloudFormation stack is named after the environment, so
// `-c environment=prod` and `-c environment=staging` deploy side by side in one account.
const environment = environmentFromContext(app.node.tryGetContext('environment'));
new CsmsStack(app, 'Csms', {
  stackName: `csms-${environment}`,
  description: `Serverless OCPP CSMS (${environment}): pile door (CloudFront + WebSocket API), app door (Cognito + HTTP API), functions, tables, queues, alarms`,
  // Account/region come from the deploying credentials; the template stays environment-agnostic.
});
