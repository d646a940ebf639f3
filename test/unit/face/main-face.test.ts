import { expect } from 'chai';
import { mainFace } from '../../../src/domain/face/main-face.js';

const w = (...widths: number[]) => widths.map((width) => ({ width }));

describe('mainFace: which face of a selfie is the student’s', () => {
  it('keeps a lone face', () => {
    expect(mainFace(w(300), 0.5)).to.deep.equal({ ok: true, index: 0, ignored: 0 });
  });

  it('keeps the largest face wherever it is listed and ignores classmates far behind', () => {
    expect(mainFace(w(60, 320, 90, 149), 0.5)).to.deep.equal({ ok: true, index: 1, ignored: 3 });
  });

  it('refuses a second face as wide as the ratio of the largest (two friends, a photo held up)', () => {
    expect(mainFace(w(300, 150), 0.5)).to.deep.equal({ ok: false, comparable: 2 });
    expect(mainFace(w(280, 300), 0.5)).to.deep.equal({ ok: false, comparable: 2 });
  });

  it('counts every comparable face and leaves the small ones out of the count', () => {
    expect(mainFace(w(300, 250, 40, 200), 0.5)).to.deep.equal({ ok: false, comparable: 3 });
  });

  it('follows the ratio it is given: 0 refuses any second face, 1 only an equal one', () => {
    expect(mainFace(w(300, 10), 0)).to.deep.equal({ ok: false, comparable: 2 });
    expect(mainFace(w(300, 299), 1)).to.deep.equal({ ok: true, index: 0, ignored: 1 });
    expect(mainFace(w(300, 300), 1)).to.deep.equal({ ok: false, comparable: 2 });
  });

  it('has nothing to choose from without a face', () => {
    expect(() => mainFace([], 0.5)).to.throw(/at least one face/);
  });
});
