// A Worker (workerd, as Cloudflare runs it) that imports the package by its name, as a bundler
// resolves it under the `workerd` condition, and runs the suite on the vector files the driver
// POSTs to it as JSON ({ path: base64 }).
import * as api from 'wa-flows-crypto';

import { runSuite } from './suite.mjs';

const fromBase64 = (text) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));

export default {
  async fetch(request) {
    const files = await request.json();
    const bytes = async (path) => {
      if (!(path in files)) throw new Error(`the driver did not send ${path}`);
      return fromBase64(files[path]);
    };
    const load = { bytes, json: async (name) => JSON.parse(new TextDecoder().decode(await bytes(name))) };
    const result = await runSuite(api, load, console.error);
    return Response.json(result);
  },
};
