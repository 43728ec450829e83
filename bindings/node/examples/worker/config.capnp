# workerd configuration to run the example Worker locally, from bindings/node:
#
#   npm run build        # once: builds pkg/ (the WebAssembly module)
#   PRIVATE_KEY="$(cat keys/private.pem)" APP_SECRET=… \
#     npx workerd serve examples/worker/config.capnp --socket-addr http=127.0.0.1:8787
#
# (`node examples/worker/serve.mjs` does the same with the Node example's variables, and
# prints `listening on http://…/` when the Worker answers.)
#
# The modules are the Worker, the shared handler and settings, and the package's Worker build
# embedded under examples/node_modules/wa-flows-crypto/ (what Wrangler's bundler would resolve through
# the package's `workerd` export condition). Secrets come from the environment, never this file.
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "main", worker = .flowEndpoint),
    # Outbound fetch() for media downloads. "local" lets the tests' fake CDN on 127.0.0.1 be
    # reached; keep only "public" anywhere else.
    (name = "internet", network = (allow = ["public", "local"], tlsOptions = (trustBrowserCas = true))),
  ],
  sockets = [ (name = "http", address = "127.0.0.1:8787", http = (), service = "main") ],
);

const flowEndpoint :Workerd.Worker = (
  modules = [
    # The first module is the Worker's entry point.
    (name = "examples/worker/worker.mjs", esModule = embed "worker.mjs"),
    (name = "examples/flow.mjs", esModule = embed "../flow.mjs"),
    (name = "examples/settings.mjs", esModule = embed "../settings.mjs"),
    # workerd resolves `import … from "wa-flows-crypto"` next to the importing module: one
    # re-export where each example module looks for it, both of the same package build.
    (name = "examples/worker/wa-flows-crypto", esModule = "export * from \"../node_modules/wa-flows-crypto/lib/worker.mjs\";"),
    (name = "examples/wa-flows-crypto", esModule = "export * from \"./node_modules/wa-flows-crypto/lib/worker.mjs\";"),
    # Every module lib/worker.mjs reaches (test/examples.test.mjs checks the list is whole).
    (name = "examples/node_modules/wa-flows-crypto/lib/worker.mjs", esModule = embed "../../lib/worker.mjs"),
    (name = "examples/node_modules/wa-flows-crypto/lib/api.mjs", esModule = embed "../../lib/api.mjs"),
    (name = "examples/node_modules/wa-flows-crypto/lib/error.mjs", esModule = embed "../../lib/error.mjs"),
    (name = "examples/node_modules/wa-flows-crypto/lib/flow.mjs", esModule = embed "../../lib/flow.mjs"),
    (name = "examples/node_modules/wa-flows-crypto/lib/input.mjs", esModule = embed "../../lib/input.mjs"),
    (name = "examples/node_modules/wa-flows-crypto/lib/key.mjs", esModule = embed "../../lib/key.mjs"),
    (name = "examples/node_modules/wa-flows-crypto/lib/media.mjs", esModule = embed "../../lib/media.mjs"),
    (name = "examples/node_modules/wa-flows-crypto/lib/platform.mjs", esModule = embed "../../lib/platform.mjs"),
    (name = "examples/node_modules/wa-flows-crypto/lib/request.mjs", esModule = embed "../../lib/request.mjs"),
    (name = "examples/node_modules/wa-flows-crypto/lib/response.mjs", esModule = embed "../../lib/response.mjs"),
    (name = "examples/node_modules/wa-flows-crypto/lib/runtime.mjs", esModule = embed "../../lib/runtime.mjs"),
    (name = "examples/node_modules/wa-flows-crypto/lib/signature.mjs", esModule = embed "../../lib/signature.mjs"),
    (name = "examples/node_modules/wa-flows-crypto/lib/engines/output.mjs", esModule = embed "../../lib/engines/output.mjs"),
    (name = "examples/node_modules/wa-flows-crypto/lib/engines/webcrypto.mjs", esModule = embed "../../lib/engines/webcrypto.mjs"),
    (name = "examples/node_modules/wa-flows-crypto/pkg/wa_flows_crypto_wasm.js", esModule = embed "../../pkg/wa_flows_crypto_wasm.js"),
    (name = "examples/node_modules/wa-flows-crypto/pkg/wa_flows_crypto_wasm_bg.wasm", wasm = embed "../../pkg/wa_flows_crypto_wasm_bg.wasm"),
  ],
  bindings = [
    (name = "PRIVATE_KEY", fromEnvironment = "PRIVATE_KEY"),
    (name = "PASSPHRASE", fromEnvironment = "PASSPHRASE"),
    (name = "PREVIOUS_PRIVATE_KEY", fromEnvironment = "PREVIOUS_PRIVATE_KEY"),
    (name = "PREVIOUS_PASSPHRASE", fromEnvironment = "PREVIOUS_PASSPHRASE"),
    (name = "APP_SECRET", fromEnvironment = "APP_SECRET"),
    (name = "PREVIOUS_APP_SECRET", fromEnvironment = "PREVIOUS_APP_SECRET"),
    (name = "FLOW_TOKEN_SIGNATURE", fromEnvironment = "FLOW_TOKEN_SIGNATURE"),
    (name = "MEDIA_ALLOW_HTTP", fromEnvironment = "MEDIA_ALLOW_HTTP"),
  ],
  compatibilityDate = "2025-09-01",
  globalOutbound = "internet",
);
