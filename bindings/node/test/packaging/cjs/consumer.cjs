// A tiny CommonJS consumer of the installed package.
const { readFileSync } = require('node:fs');
const { FlowCryptoError, FlowPrivateKey, decryptRequestSync } = require('wa-flows-crypto');

const [keyFile, requestJson] = process.argv.slice(2);
const key = FlowPrivateKey.fromPem(readFileSync(keyFile, 'utf8'));
const request = decryptRequestSync(requestJson, key);
let code;
try {
  decryptRequestSync('{}', key);
} catch (error) {
  code = error instanceof FlowCryptoError && error instanceof Error ? error.code : 'not a FlowCryptoError';
}
import('wa-flows-crypto').then((esm) => {
  // One module instance for require and import: no dual-package hazard.
  const shared = esm.FlowCryptoError === FlowCryptoError && esm.FlowPrivateKey === FlowPrivateKey;
  console.log(JSON.stringify({ plaintext: request.plaintext, engine: key.engine, code, shared }));
});
