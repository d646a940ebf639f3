import { Types } from 'mongoose';

/** Lean reads return BSON Binary for Buffer paths; entities carry Node Buffers. */
export function toBuffer(v: unknown): Buffer {
  if (Buffer.isBuffer(v)) return v;
  if (v instanceof Uint8Array) return Buffer.from(v);
  if (v instanceof Types.Buffer) return Buffer.from(v);
  const bin = v as { buffer?: unknown };
  if (bin && bin.buffer instanceof Uint8Array) return Buffer.from(bin.buffer);
  throw new TypeError('not binary data');
}
