import { expect } from 'chai';
import { accuracyAt, bestThreshold, crossValidatedAccuracy, quantile, tarAtFar, type ScoredPair } from '../../../src/face/eval-metrics.js';

const same = (distance: number | null): ScoredPair => ({ same: true, distance });
const diff = (distance: number | null): ScoredPair => ({ same: false, distance });

describe('face eval metrics', () => {
  it('counts a lost pair as answering "different"', () => {
    const pairs = [same(0.2), same(null), diff(0.9), diff(null)];
    expect(accuracyAt(pairs, 0.5)).to.equal(0.75);
  });

  it('finds the threshold that separates the classes', () => {
    const pairs = [same(0.1), same(0.3), same(0.4), same(0.45), diff(0.5), diff(0.7), diff(0.35)];
    const best = bestThreshold(pairs);
    expect(best.accuracy).to.be.closeTo(6 / 7, 1e-9);
    expect(best.threshold).to.be.within(0.45, 0.5);
  });

  it('computes TAR at a FAR with false accepts within the budget', () => {
    const impostors = Array.from({ length: 100 }, (_, i) => diff(0.5 + i / 100));
    const genuine = [same(0.2), same(0.49), same(0.505), same(0.6)];
    const r = tarAtFar([...genuine, ...impostors], 0.01);
    // One false accept allowed: accept below the second-closest impostor (0.51).
    expect(r.falseAccepts).to.equal(1);
    expect(r.tar).to.equal(0.75);
    expect(tarAtFar([...genuine, ...impostors], 0).tar).to.equal(0.5);
  });

  it('cross-validates to the same figure on cleanly separable pairs', () => {
    const pairs = Array.from({ length: 40 }, (_, i) => (i % 2 ? same(0.1 + i / 1000) : diff(0.8 + i / 1000)));
    expect(crossValidatedAccuracy(pairs, 10)).to.deep.equal({ mean: 1, std: 0 });
  });

  it('takes nearest-rank quantiles', () => {
    expect(quantile([5, 1, 3, 2, 4], 0.5)).to.equal(3);
    expect(quantile([5, 1, 3, 2, 4], 0.01)).to.equal(1);
    expect(Number.isNaN(quantile([], 0.5))).to.equal(true);
  });
});
