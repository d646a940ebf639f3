import { expect } from 'chai';
import { CursorQuery, decodeCursor, encodeCursor } from '../../../src/http/keyset-cursor.js';

const cursorOf = (text: string) => Buffer.from(text, 'utf8').toString('base64url');

describe('keyset cursor', () => {
  it('gives back the time and id it was made from', () => {
    const k = { createdAt: new Date('2026-12-07T04:00:00.123Z'), id: 'ex.1' };
    expect(decodeCursor(encodeCursor(k))).to.deep.equal(k);
  });

  it('refuses what no list answered: no dot, no id, a time that is not digits, and a time past the last date', () => {
    for (const text of ['123', '.x', '12a.x', '123.', String(Number.MAX_SAFE_INTEGER) + '.x', '8640000000000001.x']) {
      expect(decodeCursor(cursorOf(text)), text).to.equal(null);
      expect(CursorQuery.safeParse(cursorOf(text)).success, text).to.equal(false);
    }
    // The last time a Date holds is still a time.
    expect(decodeCursor(cursorOf('8640000000000000.x'))?.createdAt.getTime()).to.equal(8.64e15);
  });
});
