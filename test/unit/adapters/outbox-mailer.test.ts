import { expect } from 'chai';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { readFileSync, watch } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { OutboxMailer } from '../../../src/adapters/mail/outbox-mailer.js';
import { createLogger } from '../../../src/logger.js';

// Without SMTP an admin hands links over from DATA_DIR/outbox, often with a script that reads each
// new .eml as it appears: the docs client read a quarter of 60 invitations before their link was in.
describe('the outbox folder (no SMTP_URL)', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'outbox-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('shows each email under its .eml name only once it is whole, readable by the service alone', async () => {
    const mailer = new OutboxMailer(dir, 'School <attendance@school.example>', createLogger('silent'));
    const reads: string[] = [];
    const watcher = watch(dir, (_event, name) => {
      if (!name?.endsWith('.eml')) return;
      try {
        reads.push(readFileSync(path.join(dir, name), 'utf8'));
      } catch (err) {
        // Seen as created, then renamed away before this read: not an email being written.
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    });
    try {
      for (let i = 0; i < 20; i++)
        await mailer.send({ to: `s${i}@school.example`, subject: 'Invitation', text: `link ${i}`, html: `<p>link ${i}</p><p>END</p>` });
      await new Promise((resolve) => setTimeout(resolve, 100));
    } finally {
      watcher.close();
      await mailer.close();
    }
    expect(reads.length).to.be.at.least(20);
    expect(reads.filter((text) => !text.includes('END')).length, 'emails read before they were whole').to.equal(0);
    const files = await readdir(dir);
    expect(files.filter((f) => f.endsWith('.eml'))).to.have.length(20);
    expect(
      files.filter((f) => !f.endsWith('.eml')),
      'files left beside the emails',
    ).to.deep.equal([]);
    expect((await stat(path.join(dir, files[0]!))).mode & 0o777).to.equal(0o600);
  });
});
