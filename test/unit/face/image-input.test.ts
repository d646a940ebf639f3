import { expect } from 'chai';
import sharp from 'sharp';
import { decodeImage, precheckImage, sniffImageType, type ImageLimits } from '../../../src/face/image-input.js';
import { hugePngHeader, truncated } from '../../support/face-images.js';

const LIMITS: ImageLimits = { maxBytes: 8 * 1024 * 1024, maxPixels: 40_000_000, maxSide: 1280 };

function solid(width: number, height: number) {
  return sharp({ create: { width, height, channels: 3, background: { r: 10, g: 200, b: 30 } } });
}

async function failureOf(bytes: Uint8Array, limits = LIMITS) {
  const r = await decodeImage(bytes, limits);
  if (r.ok) throw new Error('expected a failure');
  return r;
}

describe('image input', () => {
  it('recognises JPEG, PNG and WebP by their magic bytes only', async () => {
    expect(sniffImageType(await solid(8, 8).jpeg().toBuffer())).to.equal('jpeg');
    expect(sniffImageType(await solid(8, 8).png().toBuffer())).to.equal('png');
    expect(sniffImageType(await solid(8, 8).webp().toBuffer())).to.equal('webp');
    expect(sniffImageType(await solid(8, 8).gif().toBuffer())).to.equal(null);
    expect(sniffImageType(Buffer.from('RIFF\0\0\0\0WAVEfmt '))).to.equal(null);
    expect(sniffImageType(new Uint8Array(0))).to.equal(null);
  });

  it('decodes JPEG, PNG and WebP to packed RGB', async () => {
    for (const bytes of [
      await solid(40, 30).jpeg().toBuffer(),
      await solid(40, 30).png().toBuffer(),
      await solid(40, 30).webp().toBuffer(),
    ]) {
      const r = await decodeImage(bytes, LIMITS);
      if (!r.ok) throw new Error(r.message);
      expect([r.image.width, r.image.height, r.image.data.length]).to.deep.equal([40, 30, 40 * 30 * 3]);
      expect(r.image.data[1]).to.be.closeTo(200, 3);
    }
  });

  it('drops the alpha channel of a PNG', async () => {
    const rgba = await sharp({ create: { width: 4, height: 4, channels: 4, background: { r: 1, g: 2, b: 3, alpha: 0.5 } } })
      .png()
      .toBuffer();
    const r = await decodeImage(rgba, LIMITS);
    expect(r.ok && r.image.data.length).to.equal(4 * 4 * 3);
  });

  it('refuses an upload above the byte limit before looking at it', async () => {
    const big = Buffer.alloc(60 * 1024 * 1024);
    big.set([0xff, 0xd8, 0xff]);
    const f = await failureOf(big);
    expect(f.reason).to.equal('IMAGE_TOO_LARGE');
    expect(f.details).to.deep.include({ bytes: 60 * 1024 * 1024 });
    expect(precheckImage(big, LIMITS)).to.include({ ok: false, reason: 'IMAGE_TOO_LARGE' });
  });

  it('refuses GIF, text and other types as unsupported', async () => {
    expect((await failureOf(await solid(8, 8).gif().toBuffer())).reason).to.equal('IMAGE_UNSUPPORTED_TYPE');
    expect((await failureOf(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>'))).reason).to.equal('IMAGE_UNSUPPORTED_TYPE');
  });

  it('refuses a 20000 x 20000 PNG from its header without decoding it', async () => {
    const png = hugePngHeader();
    expect(png.length).to.be.below(200_000);
    const f = await failureOf(png);
    expect(f.reason).to.equal('IMAGE_TOO_MANY_PIXELS');
  });

  it('applies the configured pixel limit exactly', async () => {
    const png = await solid(300, 200).png().toBuffer();
    expect((await decodeImage(png, { ...LIMITS, maxPixels: 60_000 })).ok).to.equal(true);
    expect((await failureOf(png, { ...LIMITS, maxPixels: 59_999 })).reason).to.equal('IMAGE_TOO_MANY_PIXELS');
  });

  it('refuses corrupt and truncated files as invalid', async () => {
    const garbage = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(2000, 0x5a)]);
    expect((await failureOf(garbage)).reason).to.equal('IMAGE_INVALID');
    const jpeg = await sharp({
      create: { width: 600, height: 400, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 40 } },
    })
      .jpeg()
      .toBuffer();
    expect((await failureOf(truncated(jpeg))).reason).to.equal('IMAGE_INVALID');
    const png = await solid(64, 64).png().toBuffer();
    expect((await failureOf(png.subarray(0, 40))).reason).to.equal('IMAGE_INVALID');
  });

  it('refuses a file whose content does not match its magic bytes', async () => {
    const webp = await solid(16, 16).webp().toBuffer();
    const disguised = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff]), webp]);
    expect((await failureOf(disguised)).reason).to.equal('IMAGE_INVALID');
  });

  it('downscales to the longest side without enlarging small images', async () => {
    const r = await decodeImage(await solid(3000, 1500).jpeg().toBuffer(), LIMITS);
    expect(r.ok && [r.image.width, r.image.height]).to.deep.equal([1280, 640]);
    const small = await decodeImage(await solid(200, 100).jpeg().toBuffer(), LIMITS);
    expect(small.ok && [small.image.width, small.image.height]).to.deep.equal([200, 100]);
  });

  it('honours the EXIF orientation', async () => {
    // Stored 200 wide and 100 high, tagged "rotate 90° clockwise to display" (orientation 6).
    const left = await sharp({ create: { width: 100, height: 100, channels: 3, background: { r: 255, g: 0, b: 0 } } })
      .png()
      .toBuffer();
    const stored = await sharp({ create: { width: 200, height: 100, channels: 3, background: { r: 0, g: 0, b: 255 } } })
      .composite([{ input: left, left: 0, top: 0 }])
      .jpeg()
      .withMetadata({ orientation: 6 })
      .toBuffer();
    const r = await decodeImage(stored, LIMITS);
    if (!r.ok) throw new Error(r.message);
    expect([r.image.width, r.image.height]).to.deep.equal([100, 200]);
    // The red left half ends up on top after a clockwise quarter turn.
    const px = (x: number, y: number) => Array.from(r.image.data.subarray((y * 100 + x) * 3, (y * 100 + x) * 3 + 3));
    expect(px(50, 20)[0]).to.be.above(200);
    expect(px(50, 180)[2]).to.be.above(200);
  });
});
