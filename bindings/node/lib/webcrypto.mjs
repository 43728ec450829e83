// The WebCrypto RSA engine, for the worker and browser entry points.
export function webEngines() {
  const subtle = globalThis.crypto?.subtle;
  if (!subtle) return { engines: {}, defaultEngine: 'wasm' };
  const webcrypto = {
    name: 'webcrypto',
    sync: false,
    prepare: (der) => subtle.importKey('pkcs8', der, { name: 'RSA-OAEP', hash: 'SHA-256' }, false, ['decrypt']),
    unwrap: (cryptoKey, wrapped) => subtle.decrypt({ name: 'RSA-OAEP' }, cryptoKey, wrapped),
  };
  return { engines: { webcrypto }, defaultEngine: 'webcrypto' };
}
