import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32, deflateSync } from 'node:zlib';
import sharp from 'sharp';

/** The shared face data (../shared/faces from the repository), or null when absent. */
export const FACES_DIR: string | null = (() => {
  const dir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'shared', 'faces');
  return existsSync(path.join(dir, 'lfw-devtrain')) && existsSync(path.join(dir, 'photos')) ? dir : null;
})();

export const SKIP_NO_FACES = '../shared/faces is absent (face data for tests)';

/**
 * A PNG that declares 20000 x 20000 RGB pixels: a valid header and the start of a valid
 * zlib stream, but only a few rows of data. Enough for any header reader to see 400 MP.
 */
export function hugePngHeader(width = 20_000, height = 20_000): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // truecolour RGB
  const rows = deflateSync(Buffer.alloc((1 + width * 3) * 4)); // four all-black rows
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', rows),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'ascii');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/** A plain grey JPEG with nothing in it. */
export function blankJpeg(width = 640, height = 480): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: 128, g: 128, b: 128 } } })
    .jpeg()
    .toBuffer();
}

/** A face photo shrunk to `side` px and placed in the corner of a large blank canvas. */
export async function tinyFaceJpeg(photo: string, side: number, canvas = 1200): Promise<Buffer> {
  const small = await sharp(photo).resize(side, side).toBuffer();
  return sharp({ create: { width: canvas, height: canvas, channels: 3, background: { r: 200, g: 200, b: 200 } } })
    .composite([{ input: small, left: 24, top: 24 }])
    .jpeg()
    .toBuffer();
}

/** The first half of a real JPEG: a truncated upload. */
export function truncated(bytes: Buffer): Buffer {
  return bytes.subarray(0, Math.floor(bytes.length / 2));
}

/**
 * `main` with `other` pasted into its top-left corner, shrunk to `share` of `main`'s width: a
 * selfie with somebody further behind the student.
 */
export async function withFaceBehind(main: Buffer, other: string, share: number): Promise<Buffer> {
  const { width } = await sharp(main).metadata();
  const small = await sharp(other)
    .resize({ width: Math.round(share * width!) })
    .toBuffer();
  return sharp(main)
    .composite([{ input: small, left: 0, top: 0 }])
    .jpeg({ quality: 90 })
    .toBuffer();
}
