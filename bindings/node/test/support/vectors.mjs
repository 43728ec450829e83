// Loads the test vectors (read-only): <repo>/tests/vectors, or $WFC_VECTORS_DIR.
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const packageDir = resolve(here, '..', '..');
export const repoDir = resolve(packageDir, '..', '..');
export const vectorsDir = process.env.WFC_VECTORS_DIR
  ? resolve(process.env.WFC_VECTORS_DIR)
  : resolve(repoDir, 'tests', 'vectors');

export function vectorFile(relative) {
  return readFileSync(join(vectorsDir, relative));
}

export function loadVectors(name) {
  return JSON.parse(readFileSync(join(vectorsDir, name), 'utf8'));
}

export const hex = (bytes) => Buffer.from(bytes).toString('hex');
