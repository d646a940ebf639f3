import { expect } from 'chai';
import { readAllPages } from '../../../src/domain/paging.js';

describe('readAllPages', () => {
  const source = (n: number) => Array.from({ length: n }, (_, i) => i);
  const pager = (items: number[], calls: Array<[number, number]>) => (limit: number, offset: number) => {
    calls.push([limit, offset]);
    return Promise.resolve({ items: items.slice(offset, offset + limit), total: items.length });
  };

  it('reads every page in order and stops after the last', async () => {
    const calls: Array<[number, number]> = [];
    expect(await readAllPages(pager(source(7), calls), 3)).to.deep.equal(source(7));
    expect(calls).to.deep.equal([
      [3, 0],
      [3, 3],
      [3, 6],
    ]);
  });

  it('stops on an exact multiple without reading an empty page, and reads one page for none', async () => {
    const calls: Array<[number, number]> = [];
    expect(await readAllPages(pager(source(6), calls), 3)).to.have.length(6);
    expect(calls).to.have.length(2);
    const none: Array<[number, number]> = [];
    expect(await readAllPages(pager([], none), 3)).to.deep.equal([]);
    expect(none).to.have.length(1);
  });

  it('stops at a short page even when the total says more (rows deleted meanwhile)', async () => {
    let n = 0;
    const shrinking = (limit: number, offset: number) => {
      n += 1;
      return Promise.resolve({ items: source(4).slice(offset, offset + limit), total: 100 });
    };
    expect(await readAllPages(shrinking, 3)).to.deep.equal(source(4));
    expect(n).to.equal(2);
  });
});
