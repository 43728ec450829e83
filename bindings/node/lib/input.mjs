// JavaScript inputs read once, by their intrinsic properties, before anything else runs.
//
// A caller's object can lie: a Uint8Array subclass can override `length`, `byteLength`,
// `buffer` and `byteOffset`, an object's `toString` or getters can return something new on
// every read, a buffer can be detached or shared with another thread. So every byte input is
// copied here through the built-in getters (captured when this module loads, before any
// caller code can replace them), every string is checked to be well-formed Unicode, and a
// response object is serialized with a replacer that refuses what JSON would silently change.
// The copies are made before the first `await` of any operation: what the caller does to
// their buffer afterwards changes nothing.

const TypedArray = Object.getPrototypeOf(Uint8Array);
const getter = (prototype, name) => Object.getOwnPropertyDescriptor(prototype, name).get;
const typedArrayTag = getter(TypedArray.prototype, Symbol.toStringTag);
const typedArrayBuffer = getter(TypedArray.prototype, 'buffer');
const typedArrayOffset = getter(TypedArray.prototype, 'byteOffset');
const typedArrayLength = getter(TypedArray.prototype, 'byteLength');
const typedArraySet = TypedArray.prototype.set;
const dataViewBuffer = getter(DataView.prototype, 'buffer');
const dataViewOffset = getter(DataView.prototype, 'byteOffset');
const dataViewLength = getter(DataView.prototype, 'byteLength');
const arrayBufferLength = getter(ArrayBuffer.prototype, 'byteLength');
const sharedArrayBufferLength =
  typeof SharedArrayBuffer === 'function' ? getter(SharedArrayBuffer.prototype, 'byteLength') : undefined;
const isView = ArrayBuffer.isView;
const isWellFormed = String.prototype.isWellFormed;
const stringify = JSON.stringify;
const numberValue = Number.prototype.valueOf;
const stringValue = String.prototype.valueOf;
const booleanValue = Boolean.prototype.valueOf;
const bigintValue = typeof BigInt === 'function' ? BigInt.prototype.valueOf : undefined;
const { apply, getPrototypeOf } = Reflect;
const objectPrototype = Object.prototype;
const arrayPrototype = Array.prototype;
const encoder = new TextEncoder();

/** `false` for the TypeError a built-in getter throws on the wrong receiver; rethrows the rest (no stack left). */
function notOne(error) {
  if (error instanceof TypeError) return false;
  throw error;
}

/** Whether `value` is a typed array (any element type), by its internal slot. */
function isTypedArray(value) {
  return apply(typedArrayTag, value, []) !== undefined;
}

/**
 * Whether `value` is a plain object or an array, by its prototype: no buffer. The slot probes
 * below throw for these, the commonest inputs (metadata, bodies a framework parsed), and a
 * throw costs microseconds. (A buffer given such a prototype is the caller's own doing; it is
 * then read as the object it claims to be, and the core refuses what it holds.)
 */
function isPlainObject(value) {
  let prototype;
  try {
    prototype = getPrototypeOf(value);
  } catch {
    return false; // a proxy's trap threw (or it was revoked): the slot probes decide
  }
  return prototype === objectPrototype || prototype === arrayPrototype || prototype === null;
}

/** Whether any value is an ArrayBuffer (not shared). */
function isArrayBufferValue(value) {
  return !isPlainObject(value) && isArrayBuffer(value);
}

/** Whether `value` is an ArrayBuffer (not shared), by its internal slot. */
function isArrayBuffer(value) {
  try {
    apply(arrayBufferLength, value, []);
    return true;
  } catch (error) {
    return notOne(error);
  }
}

/** Whether `value` is a SharedArrayBuffer, by its internal slot. */
export function isSharedArrayBuffer(value) {
  if (sharedArrayBufferLength === undefined || value === null || typeof value !== 'object') return false;
  if (isPlainObject(value)) return false;
  try {
    apply(sharedArrayBufferLength, value, []);
    return true;
  } catch (error) {
    return notOne(error);
  }
}

/** Whether `value` is bytes this package reads: an ArrayBuffer, a typed array or a DataView. */
export function isBytes(value) {
  return value !== null && typeof value === 'object' && (isView(value) || isArrayBufferValue(value));
}

/** What `value` is, for an error message, without running any of its code. */
export function describe(value) {
  if (value === null) return 'null';
  if (typeof value === 'string') return 'a string';
  if (typeof value !== 'object' && typeof value !== 'function') return `${typeof value} ${typeof value === 'symbol' ? '' : safeString(value)}`.trim();
  if (isSharedArrayBuffer(value)) return 'a SharedArrayBuffer';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'function' ? 'a function' : 'an object';
}

function safeString(primitive) {
  return typeof primitive === 'bigint' ? `${primitive}n` : String(primitive);
}

/** A fresh Uint8Array holding a copy of `length` bytes of `buffer` from `offset`. */
function copyOf(buffer, offset, length, name) {
  const view = viewOf(buffer, offset, length, name);
  const copy = new Uint8Array(length);
  apply(typedArraySet, copy, [view]);
  return copy;
}

/** A fresh plain Uint8Array over `length` bytes of `buffer` from `offset` (no copy). */
function viewOf(buffer, offset, length, name) {
  let view;
  try {
    view = new Uint8Array(buffer, offset, length);
  } catch (error) {
    // The only TypeError from the built-in values: the buffer was detached (transferred to a
    // worker, `structuredClone(…, { transfer })`, `ArrayBuffer#transfer`). Anything else (no
    // stack left) is not about the input.
    if (!(error instanceof TypeError)) throw error;
    throw new TypeError(`${name} is a view of a detached ArrayBuffer: its bytes are gone`);
  }
  return view;
}

/**
 * A copy of the bytes of a typed array (Buffer included), a DataView or an ArrayBuffer, by
 * their intrinsic byte length, or `undefined` if `value` is none of these. A shared buffer
 * (SharedArrayBuffer) is refused: another thread could change it while it is read.
 */
export function copyBytes(value, name) {
  return readBytes(value, name, copyOf);
}

/**
 * As copyBytes, but a plain view of the same memory rather than a copy: for a synchronous
 * call that runs none of the caller's code while it reads (the intrinsic length still holds,
 * and nothing can detach or resize the buffer mid-call). Large media chunks are not copied.
 */
export function viewBytes(value, name) {
  const view = readBytes(value, name, viewOf);
  if (view !== undefined) return view;
  throw new TypeError(`${name} must be a Uint8Array, got ${describe(value)}`);
}

function readBytes(value, name, read) {
  if (value === null || typeof value !== 'object') return undefined;
  if (isView(value)) {
    const typed = isTypedArray(value);
    const buffer = apply(typed ? typedArrayBuffer : dataViewBuffer, value, []);
    // A view's buffer is an ArrayBuffer or a SharedArrayBuffer; asking "ArrayBuffer?" throws
    // (slowly: an Error with a stack) only for the rare shared one.
    if (!isArrayBuffer(buffer)) {
      throw new TypeError(`${name} is a view of a SharedArrayBuffer; copy it into an ArrayBuffer first`);
    }
    if (!typed) {
      // DataView getters throw on a detached buffer.
      try {
        apply(dataViewLength, value, []);
      } catch (error) {
        if (!(error instanceof TypeError)) throw error;
        throw new TypeError(`${name} is a view of a detached ArrayBuffer: its bytes are gone`);
      }
    }
    const offset = apply(typed ? typedArrayOffset : dataViewOffset, value, []);
    const length = apply(typed ? typedArrayLength : dataViewLength, value, []);
    return read(buffer, offset, length, name);
  }
  if (isArrayBufferValue(value)) return read(value, 0, apply(arrayBufferLength, value, []), name);
  if (isSharedArrayBuffer(value)) {
    throw new TypeError(`${name} is a SharedArrayBuffer; copy it into an ArrayBuffer first`);
  }
  return undefined;
}

/** `text`, refused with a TypeError if it holds a lone surrogate (not encodable as UTF-8). */
export function wellFormed(text, name) {
  if (!apply(isWellFormed, text, [])) {
    throw new TypeError(
      `${name} holds a lone UTF-16 surrogate, which has no UTF-8 encoding; it would be replaced by U+FFFD`,
    );
  }
  return text;
}

/** The UTF-8 bytes of a well-formed string. */
export function utf8(text, name) {
  return encoder.encode(wellFormed(text, name));
}

/**
 * Bytes from a Uint8Array (Buffer included), an ArrayBuffer, any typed array or DataView, or,
 * with `text`, a string (its UTF-8): always a fresh copy.
 */
export function bytes(value, name, { text = true } = {}) {
  if (text && typeof value === 'string') return utf8(value, name);
  const copy = copyBytes(value, name);
  if (copy !== undefined) return copy;
  throw new TypeError(`${name} must be a Uint8Array${text ? ' or a string' : ''}, got ${describe(value)}`);
}

/** As `bytes`, with `undefined` and `null` standing for "none". */
export function optionalBytes(value, name) {
  return value === undefined || value === null ? undefined : bytes(value, name);
}

/**
 * JSON text of a response object, refusing what `JSON.stringify` would silently turn into
 * something else (Python's `json.dumps` refuses these too): a function or a symbol (dropped,
 * or the whole body gone), a non-finite number (sent as `null`), a BigInt, a shared buffer,
 * a cycle. `undefined` inside an object stays JSON's "no such member".
 */
export function responseJson(response) {
  let text;
  try {
    text = apply(stringify, JSON, [response, replacer]);
  } catch (error) {
    if (error instanceof RefusedValue) throw new TypeError(`response ${error.message}`);
    if (error instanceof TypeError && String(error.message).includes('circular')) {
      // V8's words for a cycle ("Converting circular structure to JSON …").
      throw new TypeError('response is not JSON-serializable: it contains a circular reference');
    }
    throw error; // a caller's toJSON or getter threw: theirs to see as it is
  }
  if (typeof text !== 'string') throw new TypeError(`response is not JSON-serializable: ${describe(response)}`);
  return text;
}

class RefusedValue extends Error {}

function at(key) {
  return key === '' ? '' : ` at ${JSON.stringify(String(key))}`;
}

function replacer(key, value) {
  switch (typeof value) {
    case 'number':
      if (!Number.isFinite(value)) throw new RefusedValue(`holds ${value}${at(key)}, which JSON cannot represent`);
      return value;
    case 'bigint':
      throw new RefusedValue(`holds a BigInt${at(key)}, which JSON cannot represent; convert it to a number or a string`);
    case 'function':
    case 'symbol':
      throw new RefusedValue(`holds a ${typeof value}${at(key)}, which JSON cannot represent`);
    case 'string':
      if (!apply(isWellFormed, value, [])) throw new RefusedValue(`holds a lone UTF-16 surrogate${at(key)}`);
      return value;
    case 'object':
      return value === null ? value : unboxed(key, value);
    default:
      return value;
  }
}

/** A boxed primitive read once by its internal slot; other objects as they are. */
function unboxed(key, value) {
  // Plain objects and arrays (nearly every value of a response) are neither boxed primitives
  // nor buffers (see isPlainObject).
  if (isPlainObject(value)) return value;
  for (const [valueOf, kind] of [
    [numberValue, 'number'],
    [stringValue, 'string'],
    [booleanValue, 'boolean'],
    [bigintValue, 'bigint'],
  ]) {
    if (valueOf === undefined) continue;
    let primitive;
    try {
      primitive = apply(valueOf, value, []);
    } catch (error) {
      notOne(error);
      continue;
    }
    if (kind === 'bigint') throw new RefusedValue(`holds a BigInt${at(key)}, which JSON cannot represent`);
    return replacer(key, primitive);
  }
  if (isSharedArrayBuffer(value)) throw new RefusedValue(`holds a SharedArrayBuffer${at(key)}, which JSON cannot represent`);
  return value;
}

/**
 * A JSON input (request body, media metadata) as the wasm module takes it: the UTF-8 bytes of
 * text, a copy of bytes, or, for an object, a plain object holding each property the core
 * reads (`fields`, named by the core), read once. Anything else is `null`, which the core
 * calls "not a JSON object". The module then never runs caller code (getters, proxy traps)
 * in the middle of a call.
 */
export function jsonInput(value, name, fields) {
  // Text goes in as its UTF-8 bytes: the same input to the core, and for a 200 KB body less
  // than half the time of passing the string itself across the boundary.
  if (typeof value === 'string') return utf8(value, name);
  const copy = copyBytes(value, name);
  if (copy !== undefined) return copy;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return null;
  const plain = Object.create(null);
  for (const field of fields) plain[field] = value[field];
  return plain;
}

/** One app secret (string or bytes) or an array of them, as fresh Uint8Array copies. */
export function secretList(value, name) {
  if (!Array.isArray(value)) return [bytes(value, name)];
  const items = Array.prototype.slice.call(value);
  return items.map((item, index) => bytes(item, `${name}[${index}]`));
}

/** A `Date` or milliseconds since the epoch, as Unix seconds for the core. */
export function unixSeconds(value, name) {
  let ms = value;
  if (value instanceof Date) ms = Date.prototype.getTime.call(value);
  else if (typeof value !== 'number') {
    throw new TypeError(`${name} must be a Date or milliseconds since the epoch, got ${describe(value)}`);
  }
  if (!Number.isFinite(ms)) throw new TypeError(`${name} must be a finite time, got ${ms}`);
  return ms / 1000;
}

/** `options.now` for the core: Unix seconds, the current time by default. */
export function nowOption(options) {
  const now = options?.now;
  return now === undefined ? Date.now() / 1000 : unixSeconds(now, 'now');
}

/** The X-Hub-Signature-256 header as the core takes it: a well-formed string or `undefined`. */
export function signatureHeader(header) {
  if (typeof header === 'string') return wellFormed(header, 'header');
  if (header !== undefined && header !== null) {
    throw new TypeError(`header must be the X-Hub-Signature-256 string (or undefined), got ${describe(header)}`);
  }
  return undefined;
}
