#!/usr/bin/env node
import { App } from 'aws-cdk-lib';
import { buildApp } from '../lib/app';
import { SettingsError } from '../lib/config';

// Bundling = `cargo lambda build --release --arm64 --bin <name>` in the workspace root, run by
// cargo-lambda-cdk for each function when its asset is staged. `npm run diff` and `npm run deploy`
// build first (infra/build-functions.sh) and put cargo-lambda on PATH, so nothing needs Docker.
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

try {
  // `-c env=<name>` chooses infra/env/<name>.json (lib/app.ts).
  buildApp(app, { deploying: !skipBundling });
} catch (e) {
  if (e instanceof SettingsError) {
    console.error(`csms: ${e.message}`);
    process.exit(1);
  }
  throw e;
}
