import { expect } from 'chai';
import { readToolConfig, UsageError } from '../../../scripts/lib/tool-config.js';

// The configuration the operator's tools (admin CLI, backup, enrol-faces) open the store with.

describe('readToolConfig (operator tools)', () => {
  const saved = { ...process.env };
  afterEach(() => {
    for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
    Object.assign(process.env, saved);
  });

  function withEnv(env: Record<string, string | undefined>): void {
    for (const key of ['NODE_ENV', 'STORE', 'SQLITE_PATH', 'MONGODB_URI', 'SQLITE_WRITER_WORKER', 'SQLITE_CHECKPOINT_WORKER'])
      delete process.env[key];
    for (const [key, value] of Object.entries(env)) if (value !== undefined) process.env[key] = value;
  }

  it('opens SQLite without the store worker threads, unless the operator sets them', () => {
    withEnv({ SQLITE_PATH: '/tmp/tool-config-test.db' });
    expect(readToolConfig().store).to.deep.include({ kind: 'sqlite', writerWorker: false, checkpointWorker: false });
    withEnv({ SQLITE_PATH: '/tmp/tool-config-test.db', SQLITE_WRITER_WORKER: 'true', SQLITE_CHECKPOINT_WORKER: 'true' });
    expect(readToolConfig().store).to.deep.include({ writerWorker: true, checkpointWorker: true });
  });

  it('wants an explicit store in production, and names a configuration error as bad usage', () => {
    withEnv({ NODE_ENV: 'production' });
    expect(() => readToolConfig()).to.throw(UsageError, /SQLITE_PATH or MONGODB_URI/);
    withEnv({ SQLITE_PATH: '/tmp/tool-config-test.db', SQLITE_WRITER_WORKER: 'maybe' });
    expect(() => readToolConfig()).to.throw(UsageError, /SQLITE_WRITER_WORKER/);
  });
});
