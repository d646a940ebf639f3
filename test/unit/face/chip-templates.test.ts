import { expect } from 'chai';
import { applySimilarity, fitSimilarity, type Point } from '../../../src/face/align.js';
import { ARCFACE_KEYPOINT_TEMPLATE, ARCFACE_TEMPLATE } from '../../../src/face/embedders.js';

describe('ArcFace chip templates', () => {
  // A face in an image: the ArcFace chip's points rotated, scaled and moved.
  const truth = { a: 2.1 * Math.cos(-0.2), b: 2.1 * Math.sin(-0.2), tx: 310, ty: 95 };
  const five = ARCFACE_TEMPLATE.map((p) => applySimilarity(truth, p));

  it('is centred in the 112 px chip, as insightface places it', () => {
    const eyesMid = (ARCFACE_TEMPLATE[0]![0] + ARCFACE_TEMPLATE[1]![0]) / 2;
    expect(eyesMid).to.be.closeTo(56, 0.2);
  });

  it('puts a face in the same chip from the detector keypoints (mouth centre) as from its five points', () => {
    const mouth: Point = [(five[3]![0] + five[4]![0]) / 2, (five[3]![1] + five[4]![1]) / 2];
    const fromKeypoints = fitSimilarity(ARCFACE_KEYPOINT_TEMPLATE, [five[0]!, five[1]!, five[2]!, mouth]);
    const fromFive = fitSimilarity(ARCFACE_TEMPLATE, five);
    for (const t of [fromKeypoints, fromFive]) {
      expect(t.a).to.be.closeTo(truth.a, 1e-6);
      expect(t.b).to.be.closeTo(truth.b, 1e-6);
      expect(t.tx).to.be.closeTo(truth.tx, 1e-4);
      expect(t.ty).to.be.closeTo(truth.ty, 1e-4);
    }
  });
});
