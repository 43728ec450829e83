// Runs in Chromium: the page's import map points `wa-flows-crypto` at the installed tarball's
// `browser` entry; vectors come from the loopback server under /vectors/.
import * as api from 'wa-flows-crypto';

import { runSuite } from './suite.mjs';

const get = async (path) => {
  const response = await fetch(`/vectors/${path}`);
  if (!response.ok) throw new Error(`GET /vectors/${path}: ${response.status}`);
  return response;
};
const load = {
  bytes: async (path) => new Uint8Array(await (await get(path)).arrayBuffer()),
  json: async (name) => (await get(name)).json(),
};

export const result = await runSuite(api, load, console.error);
