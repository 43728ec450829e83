// The public names: api.txt lists them, every entry point (Node ESM and CommonJS, worker,
// browser) exports exactly them, and index.d.ts declares each one.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { test } from 'node:test';

import { packageDir } from './support/vectors.mjs';

const listed = readFileSync(new URL('../api.txt', import.meta.url), 'utf8').split('\n').filter(Boolean);
const sorted = (names) => [...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

test('api.txt is sorted, one name a line, without repeats', () => {
  assert.deepEqual(listed, [...new Set(sorted(listed))]);
});

test('the Node ESM entry exports exactly the listed names', async () => {
  assert.deepEqual(sorted(Object.keys(await import('wa-flows-crypto'))), listed);
});

test('the Node CommonJS entry exports exactly the listed names', () => {
  const api = createRequire(import.meta.url)('wa-flows-crypto');
  // require(esm) may mark the namespace for transpiled code; that is no public name.
  assert.deepEqual(sorted(Object.keys(api).filter((name) => name !== '__esModule')), listed);
});

for (const entry of ['lib/worker.mjs', 'lib/browser.mjs']) {
  test(`${entry} exports exactly the listed names`, () => {
    const out = execFileSync(process.execPath, ['test/support/entry-names.mjs', entry], {
      cwd: packageDir,
      encoding: 'utf8',
    });
    assert.deepEqual(sorted(JSON.parse(out)), listed);
  });
}

test('index.d.ts declares every listed name and no other value', () => {
  const types = readFileSync(new URL('../lib/index.d.ts', import.meta.url), 'utf8');
  const declared = [...types.matchAll(/^export declare (?:abstract )?(?:class|function|const) (\w+)/gm)].map(
    (match) => match[1],
  );
  assert.deepEqual(sorted(new Set(declared)), listed);
});
