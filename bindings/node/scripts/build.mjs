#!/usr/bin/env node
// Builds the package from source: the wasm crate (release, LTO), wasm-bindgen (--target web,
// one module shared by every entry point), wasm-opt from the `binaryen` devDependency, and the
// CommonJS type declarations. Honours CARGO_TARGET_DIR (default: <repo>/target).
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const here = dirname(fileURLToPath(import.meta.url));
const packageDir = resolve(here, '..');
const repo = resolve(packageDir, '..', '..');
const targetDir = process.env.CARGO_TARGET_DIR ? resolve(process.env.CARGO_TARGET_DIR) : join(repo, 'target');
const outDir = join(packageDir, 'pkg');
const crate = 'wa-flows-crypto-wasm';
const stem = 'wa_flows_crypto_wasm';

function run(command, args, options = {}) {
  const started = Date.now();
  console.log(`$ ${command} ${args.join(' ')}`);
  execFileSync(command, args, { stdio: 'inherit', cwd: repo, ...options });
  console.log(`  (${((Date.now() - started) / 1000).toFixed(1)} s)`);
}

/** The exact wasm-bindgen version the crate pins, from its Cargo.toml. */
function pinnedWasmBindgen() {
  const manifest = readFileSync(join(repo, 'crates', crate, 'Cargo.toml'), 'utf8');
  const match = manifest.match(/^wasm-bindgen\s*=\s*"=([0-9.]+)"/m);
  if (!match) throw new Error(`crates/${crate}/Cargo.toml must pin wasm-bindgen with "=x.y.z"`);
  return match[1];
}

const wanted = pinnedWasmBindgen();
let installed = '';
try {
  installed = execFileSync('wasm-bindgen', ['--version'], { encoding: 'utf8' }).trim().split(/\s+/)[1];
} catch {
  installed = '';
}
if (installed !== wanted) {
  console.error(
    `wasm-bindgen ${wanted} is required (found: ${installed || 'none'}).\n` +
      `Install it with: cargo install wasm-bindgen-cli --version ${wanted} --locked\n` +
      '(or run bindings/node/run-tests.sh, which does it)',
  );
  process.exit(1);
}

// The workspace release profile (LTO, one codegen unit) at opt-level "s" for this build only:
// 200 KiB gzipped instead of 246, at the same measured speed (bench/). Overridable.
run('cargo', ['build', '--target', 'wasm32-unknown-unknown', '--release', '-p', crate], {
  env: {
    ...process.env,
    CARGO_TARGET_DIR: targetDir,
    CARGO_PROFILE_RELEASE_OPT_LEVEL: process.env.CARGO_PROFILE_RELEASE_OPT_LEVEL ?? 's',
  },
});

const built = join(targetDir, 'wasm32-unknown-unknown', 'release', `${stem}.wasm`);
rmSync(outDir, { recursive: true, force: true });
mkdirSync(outDir, { recursive: true });
// --experimental-reset-state-function: `__wbg_reset_state()` replaces an instance that trapped
// (a Rust panic, out of memory) with a fresh one; objects of the old instance then refuse to
// be used instead of reading the new one's memory (lib/runtime.mjs recovers through it).
run('wasm-bindgen', [
  '--target',
  'web',
  '--weak-refs',
  '--experimental-reset-state-function',
  '--out-dir',
  outDir,
  '--out-name',
  stem,
  built,
]);

// wasm-opt from the binaryen npm package (a devDependency; no download at install time).
const require = createRequire(import.meta.url);
const binaryenBin = join(dirname(require.resolve('binaryen/package.json')), 'bin', 'wasm-opt');
const wasmFile = join(outDir, `${stem}_bg.wasm`);
const before = statSync(wasmFile).size;
run(process.execPath, [
  binaryenBin,
  '-O3',
  '--enable-bulk-memory',
  '--enable-nontrapping-float-to-int',
  '--enable-sign-ext',
  '--enable-mutable-globals',
  '--enable-reference-types',
  '--enable-multivalue',
  '--strip-debug',
  '--strip-producers',
  wasmFile,
  '-o',
  wasmFile,
]);

// TypeScript resolves `require('wa-flows-crypto')` to a .d.cts file: the same declarations.
copyFileSync(join(packageDir, 'lib', 'index.d.ts'), join(outDir, 'index.d.cts'));

const bytes = readFileSync(wasmFile);
const gzipped = gzipSync(bytes, { level: 9 }).length;
console.log(
  `\n${stem}_bg.wasm: ${(bytes.length / 1024).toFixed(1)} KiB ` +
    `(${(before / 1024).toFixed(1)} KiB before wasm-opt), ${(gzipped / 1024).toFixed(1)} KiB gzipped`,
);
