// A tiny ESM consumer of the installed package: decrypts a request given as a vector file.
import { readFileSync } from 'node:fs';
import { FlowCryptoError, FlowPrivateKey, decryptRequest } from 'wa-flows-crypto';

const [keyFile, requestJson] = process.argv.slice(2);
const key = FlowPrivateKey.fromPem(readFileSync(keyFile, 'utf8'));
const request = await decryptRequest(requestJson, key);
let code;
try {
  await decryptRequest('{}', key);
} catch (error) {
  code = error instanceof FlowCryptoError && error instanceof Error ? error.code : 'not a FlowCryptoError';
}
console.log(JSON.stringify({ plaintext: request.plaintext, engine: key.engine, code }));
