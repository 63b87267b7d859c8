import { Buffer } from 'node:buffer';

/**
 * Base64 for typed arrays, the compact form of a model in JSON. Bytes are in the platform's
 * order, which is little-endian on every machine Node supports for the collector (x86-64, arm64).
 */
export function typedArrayToBase64(a: Float32Array | Int8Array): string {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
}

/** Decodes into a fresh, aligned array; null when the byte length does not fit `length` elements. */
export function float32FromBase64(b64: string, length: number): Float32Array | null {
  const bytes = Buffer.from(b64, 'base64');
  if (bytes.length !== length * 4) return null;
  const out = new Float32Array(length);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}

export function int8FromBase64(b64: string, length: number): Int8Array | null {
  const bytes = Buffer.from(b64, 'base64');
  if (bytes.length !== length) return null;
  const out = new Int8Array(length);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}
