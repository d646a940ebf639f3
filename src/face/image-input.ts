import sharp from 'sharp';

/**
 * Untrusted image bytes in, raw RGB out. Every check that can be done on the header runs
 * before any pixel is decoded, so a decompression bomb costs a header read, not memory.
 */

export type ImageFailureReason = 'IMAGE_TOO_LARGE' | 'IMAGE_TOO_MANY_PIXELS' | 'IMAGE_UNSUPPORTED_TYPE' | 'IMAGE_INVALID';

export type ImageType = 'jpeg' | 'png' | 'webp';

export interface ImageLimits {
  maxBytes: number;
  maxPixels: number;
  /** Longest side of the decoded output; larger images are downscaled. */
  maxSide: number;
}

export interface DecodedImage {
  /** Packed RGB, row-major, 3 bytes per pixel. */
  data: Uint8Array;
  width: number;
  height: number;
  type: ImageType;
}

export type ImageResult =
  { ok: true; image: DecodedImage } | { ok: false; reason: ImageFailureReason; message: string; details?: Record<string, number | string> };

/** Recognises JPEG, PNG and WebP by their magic bytes; anything else is null. */
export function sniffImageType(bytes: Uint8Array): ImageType | null {
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  const png = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (bytes.length >= 8 && png.every((b, i) => bytes[i] === b)) return 'png';
  if (bytes.length >= 12 && ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 12) === 'WEBP') return 'webp';
  return null;
}

/** The checks that need no decoder at all: size and magic bytes. */
export function precheckImage(
  bytes: Uint8Array,
  limits: Pick<ImageLimits, 'maxBytes'>,
): { ok: true; type: ImageType } | Extract<ImageResult, { ok: false }> {
  if (bytes.byteLength > limits.maxBytes) {
    return {
      ok: false,
      reason: 'IMAGE_TOO_LARGE',
      message: `image is larger than ${limits.maxBytes} bytes`,
      details: { bytes: bytes.byteLength, maxBytes: limits.maxBytes },
    };
  }
  const type = sniffImageType(bytes);
  if (type === null) return { ok: false, reason: 'IMAGE_UNSUPPORTED_TYPE', message: 'only JPEG, PNG and WebP are accepted' };
  return { ok: true, type };
}

/**
 * Validates and decodes an image: byte limit, magic bytes, pixel count from the header, then
 * decode honouring EXIF orientation, downscale to `maxSide`, and output packed RGB without
 * metadata. Never throws for bad input; a failure carries its reason.
 */
export async function decodeImage(bytes: Uint8Array, limits: ImageLimits): Promise<ImageResult> {
  const pre = precheckImage(bytes, limits);
  if (!pre.ok) return pre;

  // sharp's own pixel limit backs up the header check below for formats whose header lies.
  const options: sharp.SharpOptions = { limitInputPixels: limits.maxPixels, failOn: 'error', sequentialRead: true };
  let meta: sharp.Metadata;
  try {
    meta = await sharp(bytes, options).metadata();
  } catch (err) {
    return headerFailure(err, limits);
  }
  const { width, height } = meta;
  if (!width || !height) return { ok: false, reason: 'IMAGE_INVALID', message: 'the image has no dimensions' };
  if (width * height > limits.maxPixels) {
    return {
      ok: false,
      reason: 'IMAGE_TOO_MANY_PIXELS',
      message: `image has more than ${limits.maxPixels} pixels`,
      details: { width, height, maxPixels: limits.maxPixels },
    };
  }
  if (meta.format !== pre.type) {
    return { ok: false, reason: 'IMAGE_UNSUPPORTED_TYPE', message: 'the image content does not match its type' };
  }

  try {
    const { data, info } = await sharp(bytes, options)
      .rotate()
      .resize({ width: limits.maxSide, height: limits.maxSide, fit: 'inside', withoutEnlargement: true })
      .removeAlpha()
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) {
      return { ok: false, reason: 'IMAGE_INVALID', message: `unexpected channel count ${info.channels}` };
    }
    return {
      ok: true,
      image: {
        data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
        width: info.width,
        height: info.height,
        type: pre.type,
      },
    };
  } catch (err) {
    return { ok: false, reason: 'IMAGE_INVALID', message: `the image could not be decoded: ${shortMessage(err)}` };
  }
}

function headerFailure(err: unknown, limits: ImageLimits): Extract<ImageResult, { ok: false }> {
  const message = shortMessage(err);
  if (/pixel limit/i.test(message)) {
    return { ok: false, reason: 'IMAGE_TOO_MANY_PIXELS', message: `image has more than ${limits.maxPixels} pixels` };
  }
  return { ok: false, reason: 'IMAGE_INVALID', message: `the image header could not be read: ${message}` };
}

/** libvips messages can be long and multi-line; keep the first line, bounded. */
function shortMessage(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return (text.split('\n')[0] ?? '').slice(0, 200);
}

function ascii(bytes: Uint8Array, from: number, to: number): string {
  return String.fromCharCode(...bytes.subarray(from, to));
}
