// Entry of the load generator's sender thread (scripts/lib/loadtest-senders.ts). Node 20 ignores
// `--import` preloads in worker threads, so the TypeScript loader is registered here, inside the
// thread, before the sender loads (as workers/*.dev.mjs do for the service's threads).
import { register } from 'tsx/esm/api';

register();
await import('./loadtest-sender-worker.ts');
