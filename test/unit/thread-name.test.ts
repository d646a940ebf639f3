import { readFileSync, writeFileSync } from 'node:fs';
import { expect } from 'chai';
import { nameThisThread } from '../../src/observability/thread-name.js';

const COMM = '/proc/thread-self/comm';

describe('nameThisThread', function () {
  before(function () {
    try {
      readFileSync(COMM);
    } catch {
      // Not Linux: there is no kernel thread name to set.
      this.skip();
    }
  });

  it("sets the calling thread's kernel name, cut to the kernel's 15 bytes", () => {
    const before = readFileSync(COMM, 'utf8').trim();
    try {
      nameThisThread('record-writer-thread');
      expect(readFileSync(COMM, 'utf8').trim()).to.equal('record-writer-t');
    } finally {
      writeFileSync(COMM, before);
    }
  });
});
