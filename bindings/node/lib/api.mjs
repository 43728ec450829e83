// The package's public names, the same for every entry point: the API of the platform the
// entry point registered (platform.mjs), as live bindings.

import { onRegister } from './platform.mjs';

export { FlowCryptoError } from './error.mjs';

export let FlowPrivateKey;
export let FlowKeyRing;
export let DecryptedRequest;
export let EncryptedRequest;
export let parseRequest;
export let decryptRequest;
export let decryptRequestSync;
export let unwrapAesKey;
export let decryptPayload;
export let encryptResponse;
export let MediaDecryptor;
export let MediaVerifier;
export let decryptMediaContent;
export let mediaEngines;
export let verifySignature;
export let sign;
export let verifyFlowTokenSignature;
export let signFlowToken;
export let FlowRequest;
export let FlowEndpoint;
export let OpenedRequest;
export let PING_RESPONSE;
export let ERROR_ACKNOWLEDGEMENT;

onRegister((api) => {
  ({
    FlowPrivateKey,
    FlowKeyRing,
    DecryptedRequest,
    EncryptedRequest,
    parseRequest,
    decryptRequest,
    decryptRequestSync,
    unwrapAesKey,
    decryptPayload,
    encryptResponse,
    MediaDecryptor,
    MediaVerifier,
    decryptMediaContent,
    mediaEngines,
    verifySignature,
    sign,
    verifyFlowTokenSignature,
    signFlowToken,
    FlowRequest,
    FlowEndpoint,
    OpenedRequest,
    PING_RESPONSE,
    ERROR_ACKNOWLEDGEMENT,
  } = api);
});
