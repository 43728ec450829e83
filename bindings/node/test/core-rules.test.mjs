// The rule of lib/: the Rust core is the only place a protocol rule lives. A JavaScript
// module converts types, routes primitives to the platform and passes the core's errors
// through. This scan fails when a rule creeps back: a second place that makes a
// FlowCryptoError (an error of lib's own), a message of the core written out in lib/, or a
// protocol length (a key, IV, tag, block or MAC size) in lib's code.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { packageDir } from './support/vectors.mjs';

const repo = join(packageDir, '..', '..');
const libDir = join(packageDir, 'lib');

function files(dir, suffixes) {
  return readdirSync(dir, { recursive: true })
    .filter((name) => suffixes.some((suffix) => name.endsWith(suffix)))
    .map((name) => join(dir, name));
}

/** JavaScript source split into its code and its string literals, comments dropped. */
function tokens(source) {
  let code = '';
  const strings = [];
  let at = 0;
  while (at < source.length) {
    const two = source.slice(at, at + 2);
    if (two === '//') {
      const end = source.indexOf('\n', at);
      at = end === -1 ? source.length : end;
    } else if (two === '/*') {
      at = source.indexOf('*/', at + 2) + 2;
    } else if (source[at] === "'" || source[at] === '"' || source[at] === '`') {
      const quote = source[at];
      let end = at + 1;
      while (source[end] !== quote) end += source[end] === '\\' ? 2 : 1;
      strings.push(source.slice(at + 1, end));
      code += ' "" ';
      at = end + 1;
    } else {
      code += source[at];
      at += 1;
    }
  }
  return { code, strings };
}

const lib = files(libDir, ['.mjs', '.cjs']).map((path) => ({
  path: path.slice(packageDir.length + 1),
  ...tokens(readFileSync(path, 'utf8')),
}));

/** The text of every Rust string literal of the core and the wasm crate, continuations joined. */
function rustMessages() {
  const dirs = ['crates/wa-flows-crypto/src', 'crates/wa-flows-crypto-wasm/src'].map((dir) => join(repo, dir));
  const texts = [];
  for (const path of dirs.flatMap((dir) => files(dir, ['.rs']))) {
    for (const match of readFileSync(path, 'utf8').matchAll(/"((?:[^"\\]|\\[\s\S])*)"/g)) {
      texts.push(match[1].replace(/\\\n\s*/g, ''));
    }
  }
  // Only sentences (a message, not a field name or an algorithm), cut at format arguments.
  return texts
    .flatMap((text) => text.split(/\{[^}]*\}/))
    .map((fragment) => fragment.trim())
    .filter((fragment) => fragment.length >= 20 && fragment.split(' ').length >= 4);
}

test('one place in lib/ makes a FlowCryptoError', () => {
  const sites = lib.flatMap(({ path, code }) => (code.match(/new\s+FlowCryptoError\b/g) ?? []).map(() => path));
  assert.deepEqual(sites, ['lib/error.mjs']);
});

test('lib/ writes out no message of the core', () => {
  const messages = rustMessages();
  assert.ok(messages.length > 50, `only ${messages.length} messages found: is the scan still reading the core?`);
  const found = [];
  for (const { path, strings } of lib) {
    for (const text of strings) {
      for (const message of messages) if (text.includes(message)) found.push(`${path}: ${message}`);
      // A message written out in pieces ('…' + '…'): a piece of a sentence of the core.
      const piece = text.trim();
      if (piece.length >= 30 && !piece.includes('${') && messages.some((message) => message.includes(piece))) {
        found.push(`${path}: ${piece}`);
      }
    }
  }
  // The prefixes the core's Display puts before a detail.
  for (const { path, strings } of lib) {
    for (const text of strings) {
      if (/malformed input|internal error|invalid (configuration|private key|request signature)/.test(text)) {
        found.push(`${path}: ${text}`);
      }
    }
  }
  assert.deepEqual(found, []);
});

test("lib/'s code holds no protocol length", () => {
  // 10 (media MAC), 12, 16 (AES-128 key, IV, GCM tag, CBC block), 32 (AES-256 and HMAC keys,
  // SHA-256), 128 (the GCM tag in bits), 256: the core's to know.
  const found = lib.flatMap(({ path, code }) =>
    [...code.matchAll(/(?<![\w.])(?:10|12|16|32|128|256)(?![\w.])/g)].map((match) => `${path}: ${match[0]}`),
  );
  assert.deepEqual(found, []);
});
