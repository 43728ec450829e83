// A WhatsApp Flows endpoint as a Cloudflare Worker, served by workerd in the tests.
import { FlowCryptoError, FlowPrivateKey, decryptRequest, verifySignature } from 'wa-flows-crypto';

let key;

export default {
  async fetch(request, env) {
    if (request.method === 'GET') {
      // What the test checks about the runtime: the package's default engine here.
      key ??= FlowPrivateKey.fromPem(env.PRIVATE_KEY_PEM, env.PASSPHRASE || undefined);
      return Response.json({ engine: key.engine, engines: FlowPrivateKey.engines });
    }
    const raw = new Uint8Array(await request.arrayBuffer());
    if (!verifySignature(raw, request.headers.get('x-hub-signature-256'), env.APP_SECRET)) {
      return new Response(null, { status: 432 });
    }
    key ??= FlowPrivateKey.fromPem(env.PRIVATE_KEY_PEM, env.PASSPHRASE || undefined);
    let flow;
    try {
      flow = await decryptRequest(raw, key);
    } catch (error) {
      if (error instanceof FlowCryptoError) return new Response(error.code, { status: error.httpStatus ?? 500 });
      throw error;
    }
    const { action, flow_token: token } = flow.decryptedBody;
    const answer =
      action === 'ping'
        ? { data: { status: 'active' } }
        : { screen: 'WELCOME', data: { flow_token: token, greeting: 'hello from workerd' } };
    return new Response(flow.encryptResponse(answer), { headers: { 'content-type': 'text/plain' } });
  },
};
