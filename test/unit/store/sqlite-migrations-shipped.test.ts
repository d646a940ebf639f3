import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { MIGRATIONS } from '../../../src/store/sqlite/migrations.js';

// A shipped migration never changes (src/store/sqlite/migrations.ts): databases in the field
// recorded it as run, and an edit would leave them and new ones apart. Its text may still be
// written differently, by a helper that writes the same text; this pins the text each shipped
// migration runs, so such a rewrite is checked, not trusted. A migration adds its line here once shipped.
const SHIPPED: readonly (readonly [number, string])[] = [
  [1, '4ebd6cfd113b89ec'],
  [2, '81bfeb7ceaf29254'],
  [3, 'de3e4e5a945c158b'],
  [4, '32b8c5a87307abf3'],
  [5, 'ab20bbb31b1673d0'],
  [6, '633f75fd78651ca4'],
  [8, 'f9475a4b8e407920'],
  [9, 'fff5ca00fa6067f7'],
  [11, '5db6b7f1774e2c80'],
  [13, '3f3d861811ef0e96'],
  [14, '43361b2bd9f8d31a'],
  [15, 'b598de817ed82b64'],
  [16, '7b5f401ed83c41ab'],
  [17, '5e47edb65e227bb2'],
  [18, 'cc68c219389d0478'],
  [19, '2312cdf4b1363e6b'],
  [20, '328eb2978667eb7a'],
  [21, 'e28e4556189e572e'],
  [22, '8da82e0756b58f98'],
  [23, 'dfb8bb473a489bbc'],
  [24, '22c4a01e380b0e60'],
  [25, '2bcaded1a3dcdee6'],
  [26, '200498ff2f2f6ebb'],
  [27, '434925df8bc574a7'],
  [28, '177648b94968317e'],
  [29, 'cea76df1694109bd'],
  [30, 'cbf636557da17b11'],
  [31, 'd1bed860714e2503'],
  [32, '21ceabc58abba788'],
];

describe('sqlite migrations as shipped', () => {
  it('each shipped migration runs the text it shipped with (first 16 hex digits of its SHA-256)', () => {
    const shipped = new Map(SHIPPED);
    const texts = MIGRATIONS.filter((m) => shipped.has(m.version)).map((m) => [
      m.version,
      createHash('sha256').update(m.sql).digest('hex').slice(0, 16),
    ]);
    expect(texts).to.deep.equal([...SHIPPED]);
  });
});
