import { expect } from 'chai';
import { newTimeOrderedId } from '../../../src/shared/ids.js';

describe('time-ordered ids (records and audit entries)', () => {
  it('is a version 7 UUID whose first 48 bits are the time in milliseconds', () => {
    const at = Date.UTC(2026, 11, 4, 13, 0, 0, 123);
    const id = newTimeOrderedId(at);
    expect(id).to.match(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(parseInt(id.replace(/-/g, '').slice(0, 12), 16)).to.equal(at);
  });

  it('sorts by the time it was made, and ids of one millisecond differ', () => {
    const times = [1, 2, 1_000, 1_700_000_000_000, 1_700_000_000_001];
    const ids = times.map((t) => newTimeOrderedId(t));
    expect([...ids].sort()).to.deep.equal(ids);
    const same = Array.from({ length: 1_000 }, () => newTimeOrderedId(42));
    expect(new Set(same).size).to.equal(1_000);
  });
});
