// The CommonJS flavour: `require` resolves the package's .d.cts declarations.
import wfc = require('wa-flows-crypto');

export function publicPem(pem: string): string {
  const key: wfc.FlowPrivateKey = wfc.FlowPrivateKey.fromPem(pem);
  return key.publicKeyPem();
}
