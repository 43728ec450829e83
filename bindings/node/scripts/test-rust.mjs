#!/usr/bin/env node
// The wasm crate's Rust tests (wasm-bindgen-test), run inside Node by wasm-bindgen-test-runner.
// Honours CARGO_TARGET_DIR (default: <repo>/target).
import { execFileSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
execFileSync(
  'cargo',
  ['test', '--release', '--target', 'wasm32-unknown-unknown', '-p', 'wa-flows-crypto-wasm'],
  {
    cwd: repo,
    stdio: 'inherit',
    env: {
      ...process.env,
      CARGO_TARGET_DIR: process.env.CARGO_TARGET_DIR ? resolve(process.env.CARGO_TARGET_DIR) : join(repo, 'target'),
      CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER: 'wasm-bindgen-test-runner',
      // The same profile as scripts/build.mjs, so the build is reused.
      CARGO_PROFILE_RELEASE_OPT_LEVEL: process.env.CARGO_PROFILE_RELEASE_OPT_LEVEL ?? 's',
    },
  },
);
