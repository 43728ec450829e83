// workerd (the runtime of Cloudflare Workers, from the package's devDependencies): serves
// workerd-worker.mjs on 127.0.0.1 with the package's files as modules, taken from the project
// that installed the packed tarball and resolved through its package.json `workerd` condition.
// Usage: node workerd.mjs <consumer dir> <tests/vectors dir>
import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { summary } from './suite.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const [consumer, vectorsDir] = process.argv.slice(2).map((p) => resolve(p));
const installed = join(consumer, 'node_modules', 'wa-flows-crypto');
const manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8'));
const entry = manifest.exports['.'].workerd.default.replace(/^\.\//, '');

// workerd from bindings/node's devDependencies (npm install there), or $WORKERD.
const workerdBin =
  process.env.WORKERD ??
  join(createRequire(resolve(here, '..', '..', 'package.json')).resolve('workerd/package.json'), '..', 'bin', 'workerd');

const port = await new Promise((ok, fail) => {
  const server = createServer().once('error', fail);
  server.listen(0, '127.0.0.1', () => {
    const { port: p } = server.address();
    server.close(() => ok(p));
  });
});

const dir = mkdtempSync(join(tmpdir(), 'wfc-rt-workerd-'));
const q = (text) => JSON.stringify(text);
let n = 0;
const embed = (source) => {
  const local = `m${(n += 1)}_${source.split('/').pop()}`;
  copyFileSync(source, join(dir, local));
  return `embed ${q(local)}`;
};
const modules = [
  `(name = "worker.mjs", esModule = ${embed(join(here, 'workerd-worker.mjs'))})`,
  `(name = "suite.mjs", esModule = ${embed(join(here, 'suite.mjs'))})`,
  `(name = "wa-flows-crypto", esModule = ${q(`export * from "node_modules/wa-flows-crypto/${entry}";`)})`,
];
// Every file the tarball installed: .js/.mjs as ES modules, .wasm as a compiled module.
for (const sub of readdirSync(installed, { recursive: true })) {
  const path = join(installed, sub);
  const name = q(`node_modules/wa-flows-crypto/${sub}`);
  if (/\.m?js$/.test(sub)) modules.push(`(name = ${name}, esModule = ${embed(path)})`);
  else if (sub.endsWith('.wasm')) modules.push(`(name = ${name}, wasm = ${embed(path)})`);
}
const config = join(dir, 'config.capnp');
writeFileSync(
  config,
  `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [ (name = "main", worker = .suite) ],
  sockets = [ (name = "http", address = "127.0.0.1:${port}", http = (), service = "main") ],
);
const suite :Workerd.Worker = (
  modules = [ ${modules.join(',\n    ')} ],
  compatibilityDate = "2025-09-01",
);
`,
);

const child = spawn(workerdBin, ['serve', config], { stdio: ['ignore', 'pipe', 'pipe'] });
let logs = '';
child.stdout.on('data', (d) => (logs += d));
child.stderr.on('data', (d) => (logs += d));
const stop = () => {
  child.kill();
  rmSync(dir, { recursive: true, force: true });
};

let code = 1;
try {
  const base = `http://127.0.0.1:${port}/`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`workerd exited ${child.exitCode}`);
    try {
      await fetch(base, { method: 'HEAD' });
      break;
    } catch {
      if (Date.now() > deadline) throw new Error('workerd did not start in 30 s');
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const requests = JSON.parse(readFileSync(join(vectorsDir, 'requests.json'), 'utf8'));
  const media = JSON.parse(readFileSync(join(vectorsDir, 'media.json'), 'utf8'));
  const paths = ['requests.json', 'responses.json', 'signatures.json', 'media.json', ...new Set(requests.vectors.map((v) => v.key))];
  for (const name of ['size_1048579', 'tampered_file_rehashed']) {
    const vector = media.vectors.find((v) => v.name === name);
    paths.push(vector.file);
    if (vector.expect.plaintext_file) paths.push(vector.expect.plaintext_file);
  }
  const files = Object.fromEntries(paths.map((p) => [p, readFileSync(join(vectorsDir, p)).toString('base64')]));
  const response = await fetch(base, { method: 'POST', body: JSON.stringify(files), signal: AbortSignal.timeout(300_000) });
  if (response.status !== 200) throw new Error(`the worker answered ${response.status}: ${await response.text()}`);
  const version = readFileSync(join(workerdBin, '..', '..', 'package.json'), 'utf8').match(/"version":\s*"([^"]+)"/)[1];
  const result = summary('workerd', await response.json());
  console.log(`(workerd ${version}, entry ${entry})`);
  console.log(result.text);
  code = result.code;
} catch (error) {
  console.error(`workerd: ${error.stack}\n--- workerd output ---\n${logs}`);
  console.log('workerd: 0 passed, 1 failed');
} finally {
  stop();
}
process.exit(code);
