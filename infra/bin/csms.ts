#!/usr/bin/env node
import { App } from 'aws-cdk-lib';
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

new CsmsStack(app, 'Csms', {
  description: 'Serverless OCPP CSMS: WebSocket API, functions, tables and queues',
  // Account/region come from the deploying credentials; the template stays environment-agnostic.
});
