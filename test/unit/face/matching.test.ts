import { expect } from 'chai';
import { bandOf, bestDistance, checkProxy, distance, normalise, verifyFace, type Thresholds } from '../../../src/domain/face/matching.js';

const T: Thresholds = { confident: 0.4, uncertain: 0.5 };

/** A unit vector in 4-d at `angle` radians from the x axis in the x-y plane. */
function at(angle: number): Float32Array {
  return Float32Array.from([Math.cos(angle), Math.sin(angle), 0, 0]);
}
/** Angle whose chord (Euclidean distance between unit vectors) is d. */
const chord = (d: number) => 2 * Math.asin(d / 2);

describe('face matching', () => {
  it('normalises to unit length and leaves a zero vector at zero', () => {
    const v = normalise([3, 4]);
    expect(Array.from(v)).to.deep.equal([0.6000000238418579, 0.800000011920929]);
    expect(Array.from(normalise([0, 0]))).to.deep.equal([0, 0]);
  });

  it('measures Euclidean distance and refuses embeddings of different lengths', () => {
    expect(distance([0, 0], [3, 4])).to.equal(5);
    expect(() => distance([1, 2], [1, 2, 3])).to.throw(RangeError);
  });

  it('takes the best distance over an enrolled set, null when there is none', () => {
    const probe = at(0);
    expect(bestDistance(probe, [at(chord(0.7)), at(chord(0.3)), at(chord(0.9))])).to.be.closeTo(0.3, 1e-6);
    expect(bestDistance(probe, [])).to.equal(null);
  });

  it('puts distances into bands with inclusive upper bounds', () => {
    expect(bandOf(0.4, T)).to.equal('confident');
    expect(bandOf(0.41, T)).to.equal('uncertain');
    expect(bandOf(0.5, T)).to.equal('uncertain');
    expect(bandOf(0.51, T)).to.equal('mismatch');
  });

  describe('anti-proxy', () => {
    const probe = at(0);

    it('flags another enrolled student who matches better than the claimed one', () => {
      const check = checkProxy(probe, 0.45, [{ studentId: 'bob', source: 'enrolled', embeddings: [at(chord(0.2))] }], T);
      expect(check.flagged).to.equal(true);
      expect(check.closest?.studentId).to.equal('bob');
      expect(check.closest?.distance).to.be.closeTo(0.2, 1e-6);
    });

    it('does not flag when the claimed student is the closest', () => {
      const check = checkProxy(probe, 0.2, [{ studentId: 'bob', source: 'enrolled', embeddings: [at(chord(0.35))] }], T);
      expect(check.flagged).to.equal(false);
      expect(check.closest?.studentId).to.equal('bob');
    });

    it('ignores others beyond the uncertain threshold even if closer than the claimed one', () => {
      const check = checkProxy(probe, 0.9, [{ studentId: 'bob', source: 'enrolled', embeddings: [at(chord(0.6))] }], T);
      expect(check).to.deep.equal({ flagged: false, closest: null });
    });

    it('flags a face already checked in as another student in the session', () => {
      const others = [
        { studentId: 'bob', source: 'enrolled' as const, embeddings: [at(chord(0.48))] },
        { studentId: 'carol', source: 'session' as const, embeddings: [at(chord(0.1))] },
      ];
      const check = checkProxy(probe, 0.3, others, T);
      expect(check.flagged).to.equal(true);
      expect(check.closest).to.include({ studentId: 'carol', source: 'session' });
    });

    it('flags a confident match with another student when the claimed one has no enrolment, not an uncertain one', () => {
      const other = (d: number) => [{ studentId: 'bob', source: 'enrolled' as const, embeddings: [at(chord(d))] }];
      expect(checkProxy(probe, null, other(T.confident - 0.01), T).flagged).to.equal(true);
      const uncertain = checkProxy(probe, null, other((T.confident + T.uncertain) / 2), T);
      expect(uncertain.flagged).to.equal(false);
      expect(uncertain.closest?.studentId).to.equal('bob');
    });
  });

  describe('verifyFace', () => {
    it('accepts a confident match with no better match elsewhere', () => {
      const v = verifyFace(at(0), [at(chord(0.3))], [{ studentId: 'bob', source: 'enrolled', embeddings: [at(chord(1.2))] }], T);
      expect(v.band).to.equal('confident');
      expect(v.reasons).to.deep.equal(['FACE_MATCH']);
    });

    it('reports uncertain and mismatch with their reasons', () => {
      expect(verifyFace(at(0), [at(chord(0.45))], [], T).reasons).to.deep.equal(['FACE_UNCERTAIN']);
      expect(verifyFace(at(0), [at(chord(0.8))], [], T).reasons).to.deep.equal(['FACE_MISMATCH']);
    });

    it('adds POSSIBLE_PROXY to the band reason', () => {
      const v = verifyFace(at(0), [at(chord(0.8))], [{ studentId: 'bob', source: 'enrolled', embeddings: [at(chord(0.1))] }], T);
      expect(v.band).to.equal('mismatch');
      expect(v.reasons).to.deep.equal(['FACE_MISMATCH', 'POSSIBLE_PROXY']);
    });

    it('answers not-enrolled for a student without embeddings', () => {
      const v = verifyFace(at(0), [], [], T);
      expect(v).to.include({ band: 'not-enrolled', distance: null });
      expect(v.reasons).to.deep.equal(['FACE_NOT_ENROLLED']);
    });

    it('refuses thresholds in the wrong order', () => {
      expect(() => verifyFace(at(0), [], [], { confident: 0.6, uncertain: 0.5 })).to.throw(RangeError);
    });
  });
});
