import { performance } from 'node:perf_hooks';
import bcrypt from 'bcryptjs';
import type { BcryptAnswer, BcryptTask } from '../src/adapters/bcrypt-worker-hasher.js';

/**
 * Piscina worker for password hashing (src/adapters/bcrypt-worker-hasher.ts). The synchronous
 * bcryptjs calls are right here: this thread does nothing else, and the asynchronous ones only
 * slice the same work into chunks to let an event loop turn.
 */
export default function handleBcryptTask(task: BcryptTask): BcryptAnswer {
  const start = performance.now();
  const value = task.kind === 'hash' ? bcrypt.hashSync(task.password, task.cost) : bcrypt.compareSync(task.password, task.hash);
  return { value, ms: performance.now() - start };
}
