// FlowCryptoError, and the one place that makes one: from an error the core made (thrown by
// the wasm module, or returned by it for the host to keep). Every message, code and status
// is the core's; this file only gives them a real class.

/** The error every operation throws: a real `Error` with a stable `code` and `httpStatus`. */
export class FlowCryptoError extends Error {
  /**
   * @param {string} message what went wrong and what to do about it
   * @param {string} code one of the codes in the README (`malformed`, `key_unwrap`, …)
   * @param {number | null} httpStatus 421, 427, 432, 500, or null for media errors
   */
  constructor(message, code, httpStatus) {
    super(message);
    this.code = code;
    this.httpStatus = httpStatus ?? null;
  }
}

Object.defineProperty(FlowCryptoError.prototype, 'name', {
  value: 'FlowCryptoError',
  writable: true,
  configurable: true,
});

/**
 * The wasm module's errors are plain Errors named FlowCryptoError (wasm-bindgen cannot make
 * instances of this class): `error` re-classed if it is one, else `error` itself.
 */
export function fromCore(error) {
  if (
    error instanceof Error &&
    !(error instanceof FlowCryptoError) &&
    error.name === 'FlowCryptoError' &&
    typeof error.code === 'string'
  ) {
    return new FlowCryptoError(error.message, error.code, error.httpStatus);
  }
  return error;
}
