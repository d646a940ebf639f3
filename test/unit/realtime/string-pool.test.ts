import { expect } from 'chai';
import { StringPool } from '../../../src/realtime/string-pool.js';

describe('StringPool', () => {
  it('answers equal strings with the first one seen, up to its bound', () => {
    const pool = new StringPool(2);
    // Built at run time, so each is a distinct string of equal value.
    const copy = (s: string) => [...s].join('');
    const ua = pool.intern(copy('Mozilla/5.0 (Linux; Android 10; K)'));
    expect(pool.intern(copy('Mozilla/5.0 (Linux; Android 10; K)'))).to.equal(ua);
    pool.intern('student');
    expect(pool.size).to.equal(2);
    // Full: a new value passes through unchanged and is not remembered.
    expect(pool.intern('teacher')).to.equal('teacher');
    expect(pool.size).to.equal(2);
    expect(pool.intern(null)).to.equal(null);
  });
});
