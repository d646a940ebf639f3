import { expect } from 'chai';
import { byName } from '../../../src/web/lib/by-name.js';

describe('byName (pages list people by name)', () => {
  it('orders numbers within names by value and ignores case', () => {
    const names = ['Teacher 10', 'teacher 2', 'Teacher 1', 'Álvarez', 'Zoë', 'Adams'].map((name) => ({ name }));
    expect(names.sort(byName).map((p) => p.name)).to.deep.equal(['Adams', 'Álvarez', 'Teacher 1', 'teacher 2', 'Teacher 10', 'Zoë']);
  });
});
