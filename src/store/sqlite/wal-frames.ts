import { closeSync, openSync, readSync } from 'node:fs';

/**
 * How many frames the WAL of a database holds, read from the header of its wal-index (the
 * `-shm` file every WAL connection maps: `mxFrame`, a native-endian u32 at byte 16). A measuring
 * tool for the stage table (docs/multi-node.md, "Load"): one pread of 4 bytes, no lock taken, so
 * a commit of another connection in between is counted with this one's.
 */
export function walFramesReader(file: string): { read(): number; close(): void } {
  const fd = openSync(`${file}-shm`, 'r');
  const buf = Buffer.alloc(4);
  return {
    read() {
      // A wal-index not yet written to its header's end holds no frame.
      if (readSync(fd, buf, 0, 4, 16) < 4) return 0;
      return LITTLE_ENDIAN ? buf.readUInt32LE(0) : buf.readUInt32BE(0);
    },
    close() {
      closeSync(fd);
    },
  };
}

/** The wal-index is in the machine's own byte order. */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Frames one commit wrote, from the WAL's frame count before and after it. A commit that found
 * every frame copied into the database started the WAL over (the count fell): then all it holds.
 */
export function framesWritten(before: number, after: number): number {
  return after >= before ? after - before : after;
}

/** What the wal-index says of the WAL: frames in it, frames copied into the database, times started over. */
export interface WalIndexState {
  frames: number;
  backfilled: number;
  /** `aSalt[0]` of the header: SQLite adds one each time the WAL starts over. */
  generation: number;
}

/**
 * The wal-index's frame count, copied count (`nBackfill` of the checkpoint info at byte 96) and
 * salt, in one pread of 100 bytes without a lock: the checkpoint worker reads it each pass
 * (workers/wal-checkpoint-worker.ts). A torn read is possible and harmless there.
 */
export function walIndexReader(file: string): { read(): WalIndexState; close(): void } {
  const fd = openSync(`${file}-shm`, 'r');
  const buf = Buffer.alloc(100);
  const u32 = (at: number) => (LITTLE_ENDIAN ? buf.readUInt32LE(at) : buf.readUInt32BE(at));
  return {
    read() {
      if (readSync(fd, buf, 0, 100, 0) < 100) return { frames: 0, backfilled: 0, generation: 0 };
      // The salt is written big-endian (sqlite3Put4byte), the counters in the machine's order.
      return { frames: u32(16), backfilled: u32(96), generation: buf.readUInt32BE(32) };
    },
    close() {
      closeSync(fd);
    },
  };
}
