// Entry point for browsers, Deno and other runtimes with fetch and top-level await: the
// .wasm file is fetched next to this module. The RSA unwrap runs in WebCrypto.
import * as wasm from '../pkg/wa_flows_crypto_wasm.js';
import { webEngines } from './engines/webcrypto.mjs';
import { registerPlatform } from './platform.mjs';

await wasm.default({ module_or_path: new URL('../pkg/wa_flows_crypto_wasm_bg.wasm', import.meta.url) });

registerPlatform({ wasm, ...webEngines() });

export * from './api.mjs';
