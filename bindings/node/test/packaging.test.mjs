// Packaging: the package as npm packs it, installed into tiny consumer projects (ESM, CJS,
// TypeScript), used the way users use it.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { loadVectors, packageDir, vectorsDir } from './support/vectors.mjs';

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const vector = loadVectors('requests.json').vectors.find((v) => v.name === 'init');
const keyFile = join(vectorsDir, vector.key);
const requestJson = JSON.stringify(vector.request);

describe('packaging', () => {
  let dir;
  let tarball;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'wfc-packaging-'));
    execFileSync(npm, ['pack', '--silent', '--pack-destination', dir], { cwd: packageDir, stdio: ['ignore', 'pipe', 'inherit'] });
    tarball = join(dir, readdirSync(dir).find((file) => file.endsWith('.tgz')));
  });

  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  function project(name, type, files) {
    const root = join(dir, name);
    mkdirSync(root);
    writeFileSync(join(root, 'package.json'), JSON.stringify({ name: `consumer-${name}`, private: true, type }));
    cpSync(join(packageDir, 'test', 'packaging', files), root, { recursive: true });
    execFileSync(npm, ['install', '--offline', '--no-audit', '--no-fund', '--silent', tarball], { cwd: root, stdio: 'inherit' });
    return root;
  }

  test('the tarball holds the wrappers, the glue, the .wasm and the types, and nothing else', () => {
    const listing = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).trim().split('\n').sort();
    for (const file of [
      'package/lib/node.mjs',
      'package/lib/node.cjs',
      'package/lib/worker.mjs',
      'package/lib/browser.mjs',
      'package/lib/api.mjs',
      'package/lib/index.d.ts',
      'package/pkg/index.d.cts',
      'package/pkg/wa_flows_crypto_wasm.js',
      'package/pkg/wa_flows_crypto_wasm_bg.wasm',
    ]) {
      assert.ok(listing.includes(file), `${file} missing from ${listing.join(', ')}`);
    }
    // Every module of lib/, the noun modules and engines/ included: an entry point imports them.
    for (const file of readdirSync(join(packageDir, 'lib'), { recursive: true, withFileTypes: true })) {
      if (!file.isFile()) continue;
      const packed = `package/${relative(packageDir, join(file.parentPath ?? file.path, file.name)).split(sep).join('/')}`;
      assert.ok(listing.includes(packed), `${packed} missing from the tarball`);
    }
    assert.ok(!listing.some((file) => file.startsWith('package/test/') || file.startsWith('package/node_modules/')));
  });

  test('an ESM consumer', () => {
    const root = project('esm', 'module', 'esm');
    const output = execFileSync(process.execPath, ['consumer.mjs', keyFile, requestJson], { cwd: root, encoding: 'utf8' });
    assert.deepEqual(JSON.parse(output), { plaintext: vector.expect.plaintext, engine: 'node', code: 'malformed' });
  });

  test('a CommonJS consumer', () => {
    const root = project('cjs', 'commonjs', 'cjs');
    const output = execFileSync(process.execPath, ['consumer.cjs', keyFile, requestJson], { cwd: root, encoding: 'utf8' });
    assert.deepEqual(JSON.parse(output), { plaintext: vector.expect.plaintext, engine: 'node', code: 'malformed', shared: true });
  });

  test('a TypeScript consumer type-checks (ESM and CommonJS resolution)', () => {
    const root = project('ts', 'module', 'ts');
    const tsc = join(packageDir, 'node_modules', 'typescript', 'bin', 'tsc');
    execFileSync(process.execPath, [tsc, '-p', root], { cwd: root, stdio: 'inherit' });
  });

  test('the TypeScript consumer check can fail: a wrong type is reported', () => {
    const root = join(dir, 'ts');
    writeFileSync(join(root, 'broken.ts'), "import { FlowPrivateKey } from 'wa-flows-crypto';\nexport const n: number = FlowPrivateKey.fromPem('x').publicKeyPem();\n");
    writeFileSync(
      join(root, 'tsconfig.broken.json'),
      JSON.stringify({ extends: './tsconfig.json', files: ['broken.ts'] }),
    );
    const tsc = join(packageDir, 'node_modules', 'typescript', 'bin', 'tsc');
    assert.throws(() => execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.broken.json')], { cwd: root, stdio: 'pipe' }));
  });
});
