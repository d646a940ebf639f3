import { expect } from 'chai';
import {
  accuracyAt,
  bandRates,
  bestThreshold,
  crossValidatedAccuracy,
  parseLfwPairs,
  quantile,
  tarAtFar,
  type ScoredPair,
} from '../../../src/face/eval-metrics.js';

const same = (distance: number | null): ScoredPair => ({ same: true, distance });
const diff = (distance: number | null): ScoredPair => ({ same: false, distance });

describe('face eval metrics', () => {
  it('counts a lost pair (no face found) as wrong, whatever the pair, and never accepts it', () => {
    const pairs = [same(0.2), same(null), diff(0.9), diff(null)];
    expect(accuracyAt(pairs, 0.5)).to.equal(0.5);
    const r = tarAtFar([same(null), same(0.1), diff(null), diff(0.9)], 0);
    expect(r.tar).to.equal(0.5);
    expect(r.falseAccepts).to.equal(0);
  });

  it('reads LFW pairs files: a count without folds, or the official `10 300` folds', () => {
    const dev = parseLfwPairs('2\nAnn 1 2\nBob 1 3\nAnn 1 Bob 2\nCy 4 Dee 1\n');
    expect(dev.map((p) => [p.a, p.b, p.same, p.fold])).to.deep.equal([
      ['Ann/Ann_0001.jpg', 'Ann/Ann_0002.jpg', true, undefined],
      ['Bob/Bob_0001.jpg', 'Bob/Bob_0003.jpg', true, undefined],
      ['Ann/Ann_0001.jpg', 'Bob/Bob_0002.jpg', false, undefined],
      ['Cy/Cy_0004.jpg', 'Dee/Dee_0001.jpg', false, undefined],
    ]);
    // Two folds of one same-person and one different-person pair each.
    const official = parseLfwPairs('2 1\nAnn 1 2\nAnn 1 Bob 2\nBob 1 3\nCy 4 Dee 1\n');
    expect(official.map((p) => p.fold)).to.deep.equal([0, 0, 1, 1]);
  });

  it('scores each official fold with a threshold chosen on the others', () => {
    // Fold 0 separates at 0.3, fold 1 at 0.7: each held-out fold is scored at the other's threshold.
    const pairs: ScoredPair[] = [
      { same: true, distance: 0.2, fold: 0 },
      { same: false, distance: 0.4, fold: 0 },
      { same: true, distance: 0.6, fold: 1 },
      { same: false, distance: 0.8, fold: 1 },
    ];
    const cv = crossValidatedAccuracy(pairs, 2);
    expect(cv.folds).to.deep.equal([0.5, 0.5]);
    expect(cv.mean).to.equal(0.5);
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
    expect(crossValidatedAccuracy(pairs, 10)).to.deep.include({ mean: 1, std: 0 });
  });

  it('takes nearest-rank quantiles', () => {
    expect(quantile([5, 1, 3, 2, 4], 0.5)).to.equal(3);
    expect(quantile([5, 1, 3, 2, 4], 0.01)).to.equal(1);
    expect(Number.isNaN(quantile([], 0.5))).to.equal(true);
  });
});

describe('face eval: what the shipped bands decide on their own', () => {
  const bands = { confident: 0.4, uncertain: 0.48 };

  it('false accepts: different people within the confident band; false rejects: the same person beyond the uncertain one or lost', () => {
    const pairs = [same(0.2), same(0.4), same(0.45), same(0.481), same(null), diff(0.39), diff(0.4), diff(0.41), diff(0.6), diff(null)];
    expect(bandRates(pairs, bands)).to.deep.equal({
      same: 5,
      different: 5,
      falseAccepts: 2,
      falseRejects: 2,
      sameToTeacher: 1,
      differentToTeacher: 1,
    });
  });
});
