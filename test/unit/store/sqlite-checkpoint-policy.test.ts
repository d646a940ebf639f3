import { expect } from 'chai';
import { CheckpointPolicy, type CheckpointIo, type CheckpointResult } from '../../../src/store/sqlite/checkpoint-policy.js';
import type { CheckpointMode } from '../../../src/store/sqlite/wal-checkpointer.js';
import type { WalIndexState } from '../../../src/store/sqlite/wal-frames.js';

const BOUND = 1_000;
const IDLE_MS = 1_000;

/**
 * A WAL as SQLite keeps it, in frames: commits append, a checkpoint copies what it can (a PASSIVE
 * stops at the frames a commit appends while it copies, `landDuring`), a RESTART copies the rest,
 * and the first commit after every frame was copied starts the WAL over (unless `readerOnOldFrames`).
 */
class FakeWal implements CheckpointIo {
  frames = 0;
  copied = 0;
  version = 0;
  clock = 0;
  fileBytes = 0;
  readerOnOldFrames = false;
  /** Frames each checkpoint finds appended by a commit while it copies, in order (then 0). */
  landDuring: number[] = [];
  readonly modes: CheckpointMode[] = [];

  generation = 0;

  commit(frames: number): void {
    if (this.copied === this.frames && this.frames > 0 && !this.readerOnOldFrames) this.startOver();
    this.append(frames);
  }

  private startOver(): void {
    this.frames = 0;
    this.copied = 0;
    this.generation += 1;
  }

  private append(frames: number): void {
    this.frames += frames;
    this.fileBytes = Math.max(this.fileBytes, this.frames * 4096);
    this.version += 1;
  }

  dataVersion(): number {
    return this.version;
  }

  checkpoint(mode: CheckpointMode): CheckpointResult {
    this.modes.push(mode);
    // A commit that lands while the checkpoint copies began before it was done: it appends.
    const target = this.frames;
    const landed = mode === 'PASSIVE' ? (this.landDuring.shift() ?? 0) : 0;
    if (landed > 0) this.append(landed);
    this.copied = target;
    // A RESTART or TRUNCATE waits for the readers of old frames, in vain here.
    if (mode !== 'PASSIVE' && this.readerOnOldFrames) return { busy: 1, log: this.frames, checkpointed: this.copied };
    if (mode === 'TRUNCATE') {
      this.startOver();
      this.fileBytes = 0;
    }
    return { busy: 0, log: this.frames, checkpointed: this.copied };
  }

  walIndex(): WalIndexState {
    return { frames: this.frames, backfilled: this.copied, generation: this.generation };
  }

  walBytes(): number {
    return this.fileBytes;
  }

  now(): number {
    return this.clock;
  }

  blocking(): CheckpointMode[] {
    return this.modes.filter((m) => m !== 'PASSIVE');
  }
}

/**
 * The WAL of a store with a record writer thread: a held checkpoint is a PASSIVE during which
 * no commit lands (the writer waits between batches), or null when the writer could not be held.
 */
class FakeWalWithWriter extends FakeWal {
  holdable = true;
  held = 0;

  heldCheckpoint(): CheckpointResult | null {
    if (!this.holdable) return null;
    this.held += 1;
    this.copied = this.frames;
    return { busy: 0, log: this.frames, checkpointed: this.copied };
  }
}

/**
 * As SQLite answers a PASSIVE: `log` is the WAL's frames when the checkpoint began, so one that
 * copied those answers "all copied" though commits appended meanwhile. `heldRemainders`: the
 * frames each held checkpoint found not yet copied, what the writer waits for it to copy and sync.
 */
class SqliteLikeWal extends FakeWalWithWriter {
  readonly heldRemainders: number[] = [];

  override checkpoint(mode: CheckpointMode): CheckpointResult {
    const began = this.frames;
    const result = super.checkpoint(mode);
    return mode === 'PASSIVE' ? { ...result, log: began, checkpointed: began } : result;
  }

  override heldCheckpoint(): CheckpointResult | null {
    if (this.holdable) this.heldRemainders.push(this.frames - this.copied);
    return super.heldCheckpoint();
  }
}

function policyOver(wal: FakeWal): CheckpointPolicy {
  return new CheckpointPolicy({ hardBoundPages: BOUND, idleMs: IDLE_MS }, wal);
}

// workers/wal-checkpoint-worker.ts runs these decisions on its thread; a RESTART or TRUNCATE takes
// the write lock, and the record writer's commits wait for it (docs/multi-node.md, "WAL checkpoints").
describe('the WAL checkpoint policy (fake WAL and clock)', () => {
  it('a WAL copied to the end at the bound is left for the next commit to start over: no lock', () => {
    const wal = new FakeWal();
    const policy = policyOver(wal);
    for (let tick = 0; tick < 100; tick += 1) {
      // Commits land between passes, never during one: each pass copies everything.
      wal.commit(tick === 50 ? BOUND + 200 : 40);
      wal.clock += 100;
      policy.pass();
    }
    expect(wal.blocking(), 'no RESTART or TRUNCATE while commits flow').to.deep.equal([]);
    expect(wal.frames).to.be.below(BOUND);
  });

  it('RESTARTs at the bound when commits during the passes leave frames behind (the bound holds)', () => {
    const wal = new FakeWal();
    const policy = policyOver(wal);
    let largest = 0;
    for (let tick = 0; tick < 100; tick += 1) {
      wal.commit(80);
      // A commit lands during every checkpoint: the PASSIVE rounds never catch the last frame.
      wal.landDuring = [30, 30, 30, 30];
      wal.clock += 100;
      policy.pass();
      largest = Math.max(largest, wal.frames);
    }
    expect(wal.blocking().length, 'RESTARTs kept the WAL bounded').to.be.at.least(1);
    expect(new Set(wal.blocking())).to.deep.equal(new Set(['RESTART']));
    // The bound plus what one pass lets through (its commit and what landed during its rounds).
    expect(largest).to.be.at.most(BOUND + 80 + 4 * 30);
  });

  it('copies again in the same pass what a commit appended during its PASSIVE, so the bound needs no lock', () => {
    const wal = new FakeWal();
    const policy = policyOver(wal);
    for (let tick = 0; tick < 100; tick += 1) {
      wal.commit(tick === 50 ? BOUND + 200 : 40);
      // One commit lands during the first checkpoint of each pass, none during the second.
      wal.landDuring = [30];
      wal.clock += 100;
      policy.pass();
    }
    expect(wal.blocking(), 'no RESTART or TRUNCATE while commits flow').to.deep.equal([]);
    expect(wal.modes.filter((m) => m === 'PASSIVE').length, 'two PASSIVE checkpoints a pass').to.equal(200);
  });

  it('RESTARTs at the bound when the WAL copied to the end did not start over by the next pass (a reader on its frames)', () => {
    const wal = new FakeWal();
    const policy = policyOver(wal);
    wal.readerOnOldFrames = true;
    let restartAt = -1;
    for (let tick = 0; tick < 40 && restartAt < 0; tick += 1) {
      wal.commit(100);
      wal.clock += 100;
      policy.pass();
      if (wal.blocking().length > 0) restartAt = wal.frames;
    }
    // First pass at the bound (1,000 frames) leaves it to the next commit; the next pass finds it still there.
    expect(restartAt).to.equal(BOUND + 100);
  });

  it('TRUNCATEs only once nothing was committed for idleMs, not while a slow writer leaves passes without a commit', () => {
    const wal = new FakeWal();
    const policy = policyOver(wal);
    // A commit every 300 ms: two passes in three see none.
    for (let t = 0; t < 3_000; t += 100) {
      if (t % 300 === 0) wal.commit(20);
      wal.clock = t;
      policy.pass();
    }
    expect(wal.blocking(), 'no lock between slow commits').to.deep.equal([]);
    const lastCommit = wal.clock - (wal.clock % 300);
    for (let t = wal.clock + 100; t < lastCommit + IDLE_MS; t += 100) {
      wal.clock = t;
      policy.pass();
    }
    expect(wal.blocking(), 'not idle yet').to.deep.equal([]);
    wal.clock = lastCommit + IDLE_MS;
    policy.pass();
    expect(wal.blocking()).to.deep.equal(['TRUNCATE']);
    wal.clock += 100;
    policy.pass();
    expect(wal.blocking(), 'once').to.deep.equal(['TRUNCATE']);
  });

  it('a quiet pass that finds the WAL still at the bound RESTARTs it once, without waiting for idleMs', () => {
    const wal = new FakeWal();
    const policy = policyOver(wal);
    wal.commit(BOUND + 50);
    wal.clock += 100;
    policy.pass(); // copies all, leaves the start-over to the next commit
    expect(wal.blocking()).to.deep.equal([]);
    wal.clock += 100;
    policy.pass(); // no commit came: nobody waits for the lock, nothing left to copy
    wal.clock += 100;
    policy.pass();
    expect(wal.blocking()).to.deep.equal(['RESTART']);
  });

  it('with a record writer thread, holds it for a last PASSIVE at the bound instead of a RESTART (the bound holds)', () => {
    const wal = new FakeWalWithWriter();
    const policy = policyOver(wal);
    let largest = 0;
    for (let tick = 0; tick < 100; tick += 1) {
      wal.commit(80);
      // As in the RESTART case above: a commit lands during every PASSIVE the writer is not held for.
      wal.landDuring = [30, 30, 30, 30];
      wal.clock += 100;
      policy.pass();
      largest = Math.max(largest, wal.frames);
    }
    expect(wal.blocking(), 'no RESTART or TRUNCATE while commits flow').to.deep.equal([]);
    expect(wal.held, 'held once per time the WAL reached the bound').to.be.at.least(5);
    expect(policy.takeStartedOver(), 'each held pass let the next commit start the WAL over').to.equal(wal.held);
    expect(largest).to.be.at.most(BOUND + 80 + 4 * 30);
  });

  it('with a record writer thread that cannot be held (a batch outlasting the wait), RESTARTs as without one', () => {
    const wal = new FakeWalWithWriter();
    wal.holdable = false;
    const policy = policyOver(wal);
    for (let tick = 0; tick < 100; tick += 1) {
      wal.commit(80);
      wal.landDuring = [30, 30, 30, 30];
      wal.clock += 100;
      policy.pass();
    }
    expect(wal.blocking().length).to.be.at.least(1);
    expect(new Set(wal.blocking())).to.deep.equal(new Set(['RESTART']));
  });

  it('with a record writer thread, still RESTARTs a WAL that a reader kept from starting over after a held pass', () => {
    const wal = new FakeWalWithWriter();
    const policy = policyOver(wal);
    wal.readerOnOldFrames = true;
    for (let tick = 0; tick < 40 && wal.blocking().length === 0; tick += 1) {
      wal.commit(100);
      wal.landDuring = [30, 30, 30];
      wal.clock += 100;
      policy.pass();
    }
    expect(wal.held).to.equal(1);
    expect(wal.blocking()).to.deep.equal(['RESTART']);
  });

  it('does not RESTART on the pass right after a held one when no commit came in between (the next commit starts the WAL over)', () => {
    const wal = new FakeWalWithWriter();
    const policy = policyOver(wal);
    wal.commit(BOUND + 50);
    wal.landDuring = [30, 30, 30];
    wal.clock += 100;
    policy.pass(); // frames left behind by the PASSIVE rounds: held, every frame copied
    expect(wal.held).to.equal(1);
    policy.pass(); // at once (the held pass outlasted the interval): no commit yet
    policy.pass(); // and once more before the writer's next batch
    expect(wal.blocking()).to.deep.equal([]);
    wal.commit(40);
    expect(wal.generation, 'the next commit started the WAL over').to.equal(1);
  });

  it("holds the writer only for what landed during the last of the PASSIVE rounds, read from the WAL, not SQLite's log", () => {
    const wal = new SqliteLikeWal();
    const policy = policyOver(wal);
    wal.commit(BOUND + 50);
    // Each round is shorter than the one before (it copies what landed during it): fewer land.
    wal.landDuring = [300, 60, 12];
    wal.clock += 100;
    policy.pass();
    expect(wal.modes, 'three PASSIVE rounds though each answered all of its log copied').to.deep.equal(['PASSIVE', 'PASSIVE', 'PASSIVE']);
    expect(wal.heldRemainders, "the held PASSIVE copies only the last round's commits").to.deep.equal([12]);
    expect(wal.blocking()).to.deep.equal([]);
    wal.commit(40);
    expect(wal.generation, 'the next commit started the WAL over').to.equal(1);
  });

  it('with rounds that catch up (no commit during the last), does not hold the writer at all', () => {
    const wal = new SqliteLikeWal();
    const policy = policyOver(wal);
    wal.commit(BOUND + 50);
    wal.landDuring = [300, 60];
    wal.clock += 100;
    policy.pass();
    expect(wal.held).to.equal(0);
    expect(wal.blocking()).to.deep.equal([]);
    wal.commit(40);
    expect(wal.generation).to.equal(1);
  });

  it('counts the times it found the WAL started over by a commit, not by its own RESTART', () => {
    const wal = new FakeWal();
    const policy = policyOver(wal);
    for (let tick = 0; tick < 5; tick += 1) {
      wal.commit(100);
      policy.pass();
    }
    // Each commit after the first found the WAL copied and started it over.
    expect(policy.takeStartedOver()).to.equal(4);
    expect(policy.takeStartedOver()).to.equal(0);
  });
});
