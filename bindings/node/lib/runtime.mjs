// One wasm-bindgen instance and its life: every call into it goes through `call`, which
// re-classes the core's errors and survives traps.
//
// A trap in the module (a Rust panic, running out of linear memory) leaves that instance in
// an undefined state. The call that trapped fails with the core's `internal` error (HTTP 500)
// and the module is replaced by a fresh instance (`__wbg_reset_state`); keys are re-imported
// into it on their next use, and objects in progress in the old one (a MediaDecryptor
// mid-file, a parsed request) fail with `internal`.

import { FlowCryptoError, fromCore } from './error.mjs';

/** What wasm-bindgen throws for an object of an instance that was replaced. */
const STALE_OBJECT = 'Invalid stale object from previous Wasm instance';

/**
 * @param {object} wasm the initialised wasm-bindgen module
 * @returns the runtime every noun module is made with: `{ wasm, call, release, internalError,
 *   isInternal, generation }`
 */
export function createRuntime(wasm) {
  /** How many times the module was replaced after a trap. */
  let generation = 0;
  /** Whether the instance may be inconsistent and is to be replaced before the next call. */
  let suspect = false;
  // Taken now, while the instance is sound: after a trap, the failure is reported without
  // calling into the instance that trapped.
  const restarted = wasm.internalError(false);
  const stale = wasm.internalError(true);

  /**
   * Replaces the instance. If that fails (no stack left to instantiate in, a build without
   * `__wbg_reset_state`), the old instance stays suspect and the next call tries again; its
   * objects may already count as stale, which fails them with `internal`, never reads memory.
   */
  function reset() {
    try {
      wasm.__wbg_reset_state();
    } catch {
      suspect = true;
      return;
    }
    generation += 1;
    suspect = false;
  }

  /** The core's `internal` error: for an object of a replaced instance, or for a trap. */
  function internalError(ofStaleObject) {
    return fromCore(ofStaleObject ? stale : restarted);
  }

  /** Whether `error` is the core's `internal` error (a trap, a stale object). */
  function isInternal(error) {
    return error instanceof FlowCryptoError && error.code === restarted.code;
  }

  function converted(error) {
    if (error instanceof WebAssembly.RuntimeError) {
      // A trap: the instance is undefined from here on. Replace it, fail only this call.
      reset();
      return internalError(false);
    }
    if (error instanceof RangeError && String(error.message).includes('call stack')) {
      // (No regular expression here: compiling one with no stack left throws a SyntaxError.)
      // The caller's stack ran out, perhaps inside wasm: frames that never returned leave the
      // module's shadow stack (or the allocator) mid-update. Replace the instance before the
      // next call, at a depth where there is stack to do it; this one is the caller's error.
      suspect = true;
      return error;
    }
    if (error instanceof Error && error.message === STALE_OBJECT) return internalError(true);
    return fromCore(error);
  }

  function call(fn) {
    if (suspect) reset();
    try {
      return fn();
    } catch (error) {
      throw converted(error);
    }
  }

  /** Frees a wasm object, which may belong to a replaced instance (then there is nothing to free). */
  function release(object) {
    try {
      object.free();
    } catch {
      // stale: its memory went with the old instance
    }
  }

  return {
    wasm,
    call,
    release,
    internalError,
    isInternal,
    /** Bumped on every replacement: objects remember theirs to tell whether they are stale. */
    get generation() {
      return generation;
    },
  };
}
