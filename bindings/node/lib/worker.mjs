// Entry point for workerd (Cloudflare Workers) and other worker runtimes that import a
// `.wasm` file as a compiled WebAssembly.Module. The RSA unwrap runs in WebCrypto.
import * as wasm from '../pkg/wa_flows_crypto_wasm.js';
import wasmModule from '../pkg/wa_flows_crypto_wasm_bg.wasm';
import { webEngines } from './engines/webcrypto.mjs';
import { registerPlatform } from './platform.mjs';

wasm.initSync({ module: wasmModule });

registerPlatform({ wasm, ...webEngines() });

export * from './api.mjs';
