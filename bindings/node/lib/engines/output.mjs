// What a platform primitive returned, as the core's checks take it. A platform engine is
// trusted to compute, never to decide: anything that is not bytes fails the core's checks.

import { copyBytes } from '../input.mjs';

/** A copy of a platform primitive's output if it is bytes, else `undefined`. */
export function bytesOrUndefined(value) {
  try {
    return copyBytes(value, 'output') ?? undefined;
  } catch {
    return undefined;
  }
}

/** As bytesOrUndefined, with empty bytes (which every check of the core refuses) for "none". */
export function outputBytes(value) {
  return bytesOrUndefined(value) ?? new Uint8Array(0);
}

/** Wipes a platform output the caller never sees. */
export function wipe(value) {
  if (value instanceof Uint8Array) value.fill(0);
}
