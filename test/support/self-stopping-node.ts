/**
 * A node in a process of its own that stops itself with a real SIGSTOP at one chosen point: right
 * after its clash check of a `session:open` has read the store, while it holds the subject's slot
 * locks (test/integration/sigstop-fencing.test.ts). The parent test continues it with SIGCONT.
 *
 *   node --import tsx test/support/self-stopping-node.ts   (SQLITE_PATH, JWT_SECRET in the environment)
 *
 * Prints `listening on http://HOST:PORT`; stops at the first clash check after the parent sends
 * `arm` over IPC (answered `armed`), telling it `stopping` first. SIGTERM closes it.
 */
import { createApplication } from '../../src/app.js';
import type { Store } from '../../src/domain/ports/store.js';
import { createLogger } from '../../src/logger.js';
import { createSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { testConfig } from './http.js';

const file = process.env['SQLITE_PATH'];
const secret = process.env['JWT_SECRET'];
if (!file || !secret || !process.send) throw new Error('self-stopping-node: SQLITE_PATH, JWT_SECRET and an IPC channel are needed');
const send = process.send.bind(process);

let armed = false;
// Armed is answered `armed` so that the parent sends its command only once arming took effect:
// IPC and the socket are separate channels, and a command read first would run unarmed.
process.on('message', (m) => {
  if (m !== 'arm') return;
  armed = true;
  send('armed');
});

const store = await createSqliteStore({ path: file });
const sessions = store.sessions;
const listActiveForSubjectsDuring = sessions.listActiveForSubjectsDuring.bind(sessions);
// The clash check's read has its answer; the write under the locks comes after it.
sessions.listActiveForSubjectsDuring = async (...args) => {
  const read = await listActiveForSubjectsDuring(...args);
  if (armed) {
    armed = false;
    await new Promise<void>((resolve) => send('stopping', () => resolve()));
    process.kill(process.pid, 'SIGSTOP');
  }
  return read;
};
const wrapped: Store = store;

const config = { ...testConfig({ JWT_SECRET: secret }), store: { kind: 'sqlite' as const, path: file } };
const app = createApplication({ config, store: wrapped, logger: createLogger('silent') });
const address = await app.listen();
process.stdout.write(`listening on http://127.0.0.1:${address.port}\n`);
process.once('SIGTERM', () => {
  void app.close().then(() => process.exit(0));
});
