// Runs a Worker in workerd (from npm) on 127.0.0.1, importing this package through its
// `workerd` export condition. Shared by test/workerd.test.mjs and benches/compare/workerd.mjs.
import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join, sep } from 'node:path';

import { packageDir } from './vectors.mjs';

async function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

const capnpString = (text) => JSON.stringify(text);

/** The workerd config: the worker, plus the package's files as modules under node_modules/. */
function config(dir, port, worker, bindings) {
  const manifest = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8'));
  const entry = manifest.exports['.'].workerd.default.replace(/^\.\//, '');
  // workerd embeds files relative to the config: copy them next to it.
  const embed = (source, name) => {
    const local = name.replace(/[^A-Za-z0-9._-]/g, '_');
    copyFileSync(source, join(dir, local));
    return `embed ${capnpString(local)}`;
  };
  const modules = [`(name = "worker.mjs", esModule = ${embed(worker, 'worker.mjs')})`];
  modules.push(
    `(name = "wa-flows-crypto", esModule = ${capnpString(`export * from "node_modules/wa-flows-crypto/${entry}";`)})`,
  );
  for (const sub of ['lib', 'pkg']) {
    for (const file of readdirSync(join(packageDir, sub), { recursive: true })) {
      const path = join(packageDir, sub, file);
      const moduleName = `node_modules/wa-flows-crypto/${sub}/${file.split(sep).join('/')}`;
      const name = capnpString(moduleName);
      // The Node entry point and engines are not part of the worker build.
      if (basename(file).startsWith('node.')) continue;
      if (file.endsWith('.mjs') || file.endsWith('.js')) modules.push(`(name = ${name}, esModule = ${embed(path, moduleName)})`);
      else if (file.endsWith('.wasm')) modules.push(`(name = ${name}, wasm = ${embed(path, moduleName)})`);
    }
  }
  const text = `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [ (name = "main", worker = .flows) ],
  sockets = [ (name = "http", address = "127.0.0.1:${port}", http = (), service = "main") ],
);
const flows :Workerd.Worker = (
  modules = [ ${modules.join(',\n    ')} ],
  bindings = [
    ${Object.entries(bindings)
      .map(([name, value]) => `(name = ${capnpString(name)}, text = ${capnpString(value)})`)
      .join(',\n    ')}
  ],
  compatibilityDate = "2025-09-01",
);
`;
  const file = join(dir, 'config.capnp');
  writeFileSync(file, text);
  return file;
}

/**
 * Starts workerd serving `worker` (a file path) with text `bindings`; resolves once it
 * answers. Returns `{ base, logs(), stop() }`.
 */
export async function startWorkerd(worker, bindings) {
  const dir = mkdtempSync(join(tmpdir(), 'wfc-workerd-'));
  const port = await freePort();
  const require = createRequire(join(packageDir, 'package.json'));
  const workerd = join(require.resolve('workerd/package.json'), '..', 'bin', 'workerd');
  const child = spawn(workerd, ['serve', config(dir, port, worker, bindings)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let logs = '';
  child.stdout.on('data', (data) => (logs += data));
  child.stderr.on('data', (data) => (logs += data));
  const stop = () => {
    child.kill();
    rmSync(dir, { recursive: true, force: true });
  };
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) {
      stop();
      throw new Error(`workerd exited:\n${logs}`);
    }
    try {
      await fetch(base, { method: 'HEAD' });
      break;
    } catch {
      if (Date.now() > deadline) {
        stop();
        throw new Error(`workerd did not start:\n${logs}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  return { base, logs: () => logs, stop };
}
