// Prints, as JSON, the names an entry point of the package exports, loaded in Node as the
// runtime it is written for would load it: worker.mjs imports its `.wasm` file as a compiled
// WebAssembly.Module (as workerd does), browser.mjs fetches it (as a browser does).
//   node test/support/entry-names.mjs lib/worker.mjs
import { readFileSync } from 'node:fs';
import { register } from 'node:module';

const hooks = `
import { fileURLToPath } from 'node:url';
export async function load(url, context, next) {
  if (!url.endsWith('.wasm')) return next(url, context);
  const source = 'import { readFileSync } from "node:fs";' +
    'export default new WebAssembly.Module(readFileSync(' + JSON.stringify(fileURLToPath(url)) + '));';
  return { format: 'module', source, shortCircuit: true };
}`;
register(`data:text/javascript,${encodeURIComponent(hooks)}`);

const platformFetch = globalThis.fetch;
globalThis.fetch = async (input, init) => {
  const url = new URL(input instanceof Request ? input.url : String(input));
  if (url.protocol !== 'file:') return platformFetch(input, init);
  return new Response(readFileSync(url), { headers: { 'content-type': 'application/wasm' } });
};

const entry = new URL(`../../${process.argv[2]}`, import.meta.url);
const api = await import(entry.href);
process.stdout.write(JSON.stringify(Object.keys(api)));
