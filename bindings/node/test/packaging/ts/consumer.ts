// A TypeScript consumer: must type-check against the package's declarations (strict).
import {
  type DecryptedRequest,
  type FlowCryptoErrorCode,
  FlowCryptoError,
  FlowPrivateKey,
  MediaDecryptor,
  decryptMediaContent,
  decryptRequest,
  decryptRequestSync,
  encryptResponse,
  verifySignature,
} from 'wa-flows-crypto';

interface Ping {
  version: string;
  action: 'ping';
}

export async function handle(raw: Uint8Array, signature: string | null, pem: string): Promise<[number, string]> {
  if (!verifySignature(raw, signature, 'secret')) return [432, ''];
  const key: FlowPrivateKey = FlowPrivateKey.fromPem(pem, 'passphrase').withEngine('wasm');
  try {
    const request: DecryptedRequest<Ping> = await decryptRequest<Ping>(raw, key);
    const action: 'ping' = request.decryptedBody.action;
    const bits: number = key.bits;
    const again = decryptRequestSync(new TextDecoder().decode(raw), key);
    const body: string = request.encryptResponse({ data: { status: 'active', action, bits } });
    const same: string = encryptResponse('{}', again.aesKey, again.iv);
    return [200, body + same];
  } catch (error) {
    if (error instanceof FlowCryptoError) {
      const code: FlowCryptoErrorCode = error.code;
      return [error.httpStatus ?? 500, code];
    }
    throw error;
  }
}

export async function media(file: Uint8Array, metadata: string): Promise<Uint8Array> {
  const stream: TransformStream<Uint8Array, Uint8Array> = new MediaDecryptor(metadata);
  void stream;
  return decryptMediaContent(file, metadata);
}
