// The short soak (test/soak.mjs, in its own process so that nothing else the suite allocated
// counts): the resident set and wasm linear memory stay flat over repeated requests and media.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import process from 'node:process';
import { test } from 'node:test';

test('resident set and wasm memory stay flat over repeated requests and streamed media', () => {
  const soak = new URL('./soak.mjs', import.meta.url).pathname;
  const out = execFileSync(process.execPath, ['--expose-gc', soak, '12000', '30'], { encoding: 'utf8', timeout: 600_000 });
  assert.match(out, /node requests 12000: /);
  assert.match(out, /node media 30: /);
});
