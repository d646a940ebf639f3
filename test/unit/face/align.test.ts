import { expect } from 'chai';
import { applySimilarity, fitSimilarity, mirrorChip, similarityScale, warpChip, type Point } from '../../../src/face/align.js';
import { laplacianVariance, meanBrightness, toGrey } from '../../../src/face/quality.js';

/** A width x height RGB image whose red channel is x and green channel is y. */
function gradient(width: number, height: number) {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data.set([x, y, 0], (y * width + x) * 3);
  return { data, width, height };
}

describe('face alignment', () => {
  it('recovers a known similarity from exact correspondences', () => {
    const angle = 0.3,
      scale = 1.7;
    const truth = { a: scale * Math.cos(angle), b: scale * Math.sin(angle), tx: 40, ty: -12 };
    const chip: Point[] = [
      [47, 46],
      [100, 46],
      [74, 77],
      [74, 106],
    ];
    const fitted = fitSimilarity(
      chip,
      chip.map((p) => applySimilarity(truth, p)),
    );
    expect(fitted.a).to.be.closeTo(truth.a, 1e-9);
    expect(fitted.b).to.be.closeTo(truth.b, 1e-9);
    expect(fitted.tx).to.be.closeTo(truth.tx, 1e-9);
    expect(fitted.ty).to.be.closeTo(truth.ty, 1e-9);
    expect(similarityScale(fitted)).to.be.closeTo(scale, 1e-9);
  });

  it('refuses fewer than two points or coinciding template points', () => {
    expect(() => fitSimilarity([[1, 1]], [[2, 2]])).to.throw();
    expect(() =>
      fitSimilarity(
        [
          [1, 1],
          [1, 1],
        ],
        [
          [2, 2],
          [3, 3],
        ],
      ),
    ).to.throw();
  });

  it('resamples through the transform, clamping outside the image', () => {
    const img = gradient(100, 80);
    const chip = warpChip(img, { a: 1, b: 0, tx: 10, ty: 5 }, 20);
    expect(Array.from(chip.subarray(0, 3))).to.deep.equal([10, 5, 0]);
    const at = (u: number, v: number) => Array.from(chip.subarray((v * 20 + u) * 3, (v * 20 + u) * 3 + 2));
    expect(at(7, 3)).to.deep.equal([17, 8]);
    const outside = warpChip(img, { a: 1, b: 0, tx: 95, ty: 75 }, 20);
    expect(Array.from(outside.subarray((19 * 20 + 19) * 3, (19 * 20 + 19) * 3 + 2))).to.deep.equal([99, 79]);
  });

  it('averages over the footprint when shrinking, instead of picking one pixel', () => {
    // A 1-pixel checkerboard shrunk 4x must come out mid-grey, not black or white.
    const width = 160,
      data = new Uint8Array(width * width * 3);
    for (let i = 0; i < width * width; i++) data.fill(((i % width) + Math.floor(i / width)) % 2 ? 255 : 0, i * 3, i * 3 + 3);
    const chip = warpChip({ data, width, height: width }, { a: 4, b: 0, tx: 0.5, ty: 0.5 }, 30);
    for (const v of chip.subarray(300, 600)) expect(v).to.be.closeTo(127.5, 40);
  });

  it('mirrors a chip left-right', () => {
    const chip = Float32Array.from([1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4]);
    expect(Array.from(mirrorChip(chip, 2))).to.deep.equal([2, 2, 2, 1, 1, 1, 4, 4, 4, 3, 3, 3]);
  });
});

describe('face quality', () => {
  const size = 40;
  const chipOf = (f: (x: number, y: number) => number) => {
    const c = new Float32Array(size * size * 3);
    for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) c.fill(f(x, y), (y * size + x) * 3, (y * size + x) * 3 + 3);
    return c;
  };

  it('scores a sharp pattern far above a smooth one', () => {
    const sharp = toGrey(
      chipOf((x, y) => ((x + y) % 2 ? 200 : 50)),
      size,
    );
    const smooth = toGrey(
      chipOf((x) => 50 + x * 3),
      size,
    );
    expect(laplacianVariance(sharp, size)).to.be.above(1000);
    expect(laplacianVariance(smooth, size)).to.be.below(1);
  });

  it('measures mean brightness of the centre', () => {
    const grey = toGrey(
      chipOf((x, y) => (x < 8 || y < 8 || x >= 32 || y >= 32 ? 255 : 30)),
      size,
    );
    expect(meanBrightness(grey, size)).to.be.closeTo(30, 0.01);
  });
});
