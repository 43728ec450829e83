// Node's base64 decoder, for request bodies the package reads without the core's parser.

/**
 * Standard base64 decoded by Node, when `text` is the canonical encoding of the result;
 * anything else gets `null` and goes to the core's stricter parser. Node's decoder skips
 * characters outside its alphabet and stops at `=`, so a decoded length of exactly three
 * bytes per four characters, less the padding, proves that every character decoded; the
 * URL-safe `-` and `_` (which Node accepts) are refused, and re-encoding the last group
 * refuses non-zero trailing bits.
 */
export const nodeCanonicalBase64 = (text) => {
  if (text.length % 4 !== 0 || text.includes('-') || text.includes('_')) return null;
  const padding = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  const bytes = Buffer.from(text, 'base64');
  if (bytes.length !== (text.length / 4) * 3 - padding) return null;
  if (bytes.length > 0 && bytes.subarray(bytes.length - (3 - padding)).toString('base64') !== text.slice(-4)) {
    return null;
  }
  return bytes;
};
