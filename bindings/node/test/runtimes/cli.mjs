// Deno and Bun: run from a project that installed the packed tarball (node_modules/wa-flows-crypto),
// importing the package by its name as a user's code does. Usage:
//   deno run --allow-read cli.mjs <tests/vectors dir>
//   bun cli.mjs <tests/vectors dir>
import * as api from 'wa-flows-crypto';

import { runSuite, summary } from './suite.mjs';

const runtime = globalThis.Deno ? `deno ${Deno.version.deno}` : globalThis.Bun ? `bun ${Bun.version}` : 'unknown';
const args = globalThis.Deno ? Deno.args : process.argv.slice(2);
const vectors = new URL(`${args[0].replace(/\/?$/, '/')}`, `file://${globalThis.Deno ? Deno.cwd() : process.cwd()}/`);
const readBytes = globalThis.Deno
  ? (url) => Deno.readFile(url)
  : async (url) => new Uint8Array(await Bun.file(url).arrayBuffer());
const load = {
  bytes: (path) => readBytes(new URL(path, vectors)),
  json: async (name) => JSON.parse(new TextDecoder().decode(await readBytes(new URL(name, vectors)))),
};

const { text, code } = summary(runtime.split(' ')[0], await runSuite(api, load, console.error));
console.log(`(${runtime})`);
console.log(text);
if (globalThis.Deno) Deno.exit(code);
else process.exit(code);
