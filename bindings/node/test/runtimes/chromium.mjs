// A real headless Chromium (Debian's /usr/bin/chromium, or $CHROMIUM): a loopback static server
// serves the project that installed the packed tarball, a page whose import map resolves
// `wa-flows-crypto` to the package's `browser` export, the suite, and tests/vectors; the page
// POSTs its result (or its error) to /report.
// Usage: node chromium.mjs <consumer dir> <tests/vectors dir>
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, extname, join, normalize, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { summary } from './suite.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const [consumer, vectorsDir] = process.argv.slice(2).map((p) => resolve(p));
const chromium = process.env.CHROMIUM ?? '/usr/bin/chromium';
const manifest = JSON.parse(readFileSync(join(consumer, 'node_modules', 'wa-flows-crypto', 'package.json'), 'utf8'));
const entry = `/node_modules/wa-flows-crypto/${manifest.exports['.'].browser.default.replace(/^\.\//, '')}`;

const page = `<!doctype html>
<meta charset="utf-8">
<title>wa-flows-crypto in Chromium</title>
<script type="importmap">${JSON.stringify({ imports: { 'wa-flows-crypto': entry } })}</script>
<script type="module">
  const report = (body) => fetch('/report', { method: 'POST', body: JSON.stringify(body) });
  import('/browser-page.mjs').then(
    ({ result }) => report({ result, userAgent: navigator.userAgent }),
    (error) => report({ error: String(error && error.stack || error) }),
  );
</script>
`;
const TYPES = { '.mjs': 'text/javascript', '.js': 'text/javascript', '.wasm': 'application/wasm', '.json': 'application/json' };
const roots = { '/vectors/': vectorsDir, '/node_modules/': join(consumer, 'node_modules') };
const files = { '/browser-page.mjs': join(here, 'browser-page.mjs'), '/suite.mjs': join(here, 'suite.mjs') };
const problems = [];
let settle;
const reported = new Promise((ok) => (settle = ok));

const server = createServer((request, response) => {
  const url = new URL(request.url, 'http://127.0.0.1');
  if (request.method === 'POST' && url.pathname === '/report') {
    let body = '';
    request.on('data', (d) => (body += d));
    request.on('end', () => {
      response.end('ok');
      settle(JSON.parse(body));
    });
    return;
  }
  if (url.pathname === '/') {
    response.writeHead(200, { 'content-type': 'text/html' }).end(page);
    return;
  }
  let file = files[url.pathname];
  for (const [prefix, root] of Object.entries(roots)) {
    if (!file && url.pathname.startsWith(prefix)) {
      const candidate = normalize(join(root, decodeURIComponent(url.pathname.slice(prefix.length))));
      if (candidate.startsWith(root)) file = candidate;
    }
  }
  if (!file || !statSync(file, { throwIfNoEntry: false })?.isFile()) {
    if (url.pathname !== '/favicon.ico') problems.push(`404 ${url.pathname}`);
    response.writeHead(404).end();
    return;
  }
  response.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(readFileSync(file));
});
await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
const base = `http://127.0.0.1:${server.address().port}/`;

const profile = mkdtempSync(join(tmpdir(), 'wfc-rt-chromium-'));
const browser = spawn(
  chromium,
  [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    `--user-data-dir=${profile}`,
    base,
  ],
  { stdio: ['ignore', 'pipe', 'pipe'] },
);
let logs = '';
browser.stdout.on('data', (d) => (logs += d));
browser.stderr.on('data', (d) => (logs += d));
const exited = new Promise((ok) => browser.once('exit', (code, signal) => ok({ exited: `${code ?? signal}` })));

let code = 1;
try {
  const outcome = await Promise.race([
    reported,
    exited,
    new Promise((ok) => setTimeout(() => ok({ timeout: true }), 300_000)),
  ]);
  if (outcome.timeout) throw new Error('no report from the page in 300 s');
  if (outcome.exited) throw new Error(`chromium exited (${outcome.exited}) before the page reported`);
  if (outcome.error) throw new Error(`the page failed: ${outcome.error}`);
  if (problems.length) throw new Error(`the page asked for missing files: ${problems.join(', ')}`);
  const version = outcome.userAgent.match(/Chrome\/([0-9.]+)/)?.[1] ?? outcome.userAgent;
  const result = summary('chromium', outcome.result);
  console.log(`(chromium ${version}, headless, entry ${entry})`);
  console.log(result.text);
  code = result.code;
} catch (error) {
  console.error(`chromium: ${error.message}\n--- chromium output ---\n${logs}`);
  console.log('chromium: 0 passed, 1 failed');
} finally {
  browser.kill();
  await exited;
  server.close();
  // Chromium's helper processes can still be writing the profile after the browser exits
  // (ENOTEMPTY): retry, and never let the clean-up of a temporary folder fail the run.
  try {
    rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
  } catch (error) {
    console.error(`chromium: could not remove ${profile}: ${error.message}`);
  }
}
process.exit(code);
