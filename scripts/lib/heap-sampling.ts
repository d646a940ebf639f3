/**
 * Preload (`node --import tsx --import ./scripts/lib/heap-sampling.ts`) for allocation profiles
 * of a benchmark's server: the first SIGUSR2 starts V8's sampling heap profiler, the second
 * stops it and writes HEAP_PROF_DIR/heap-<pid>-<n>.heapprofile. Unlike `node --heap-prof`, the
 * samples include objects already collected (garbage is what the profile is for) and cover only
 * the span between the signals (the load phase, not the start-up and the connecting).
 * Read it with scripts/heap-top.ts.
 *
 * HEAP_PROF_PROMOTED=1 (node run with --expose-gc): the samples of objects a scavenge freed are
 * dropped, those a mark-compact freed are kept, and one scavenge runs before the stop so that the
 * young generation's garbage not yet collected drops out too: the profile is then what was
 * promoted to the old space (or still lives at the stop), by allocation site, garbage that lived
 * long enough to be copied twice included. Bytes promoted are what a later mark-compact pays for.
 */
import { Session } from 'node:inspector';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const dir = process.env['HEAP_PROF_DIR'] ?? '.';
const interval = Number(process.env['HEAP_PROF_INTERVAL'] ?? 4096);
const promoted = process.env['HEAP_PROF_PROMOTED'] === '1';
/** `gc` as --expose-gc installs it, with the options object V8 takes (Node's type has none). */
const gc = (globalThis as { gc?: (options: { type: 'minor'; execution: 'sync' }) => void }).gc;
if (promoted && !gc) process.stderr.write('heap sampling: HEAP_PROF_PROMOTED=1 without --expose-gc: young garbage counts too\n');
const session = new Session();
session.connect();
let sampling = false;
let written = 0;

// The in-process inspector session answers synchronously, so the signal handler finishes its work.
process.on('SIGUSR2', () => {
  if (!sampling) {
    session.post('HeapProfiler.startSampling', {
      samplingInterval: interval,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: !promoted,
    });
    sampling = true;
    return;
  }
  if (promoted) gc?.({ type: 'minor', execution: 'sync' });
  session.post('HeapProfiler.stopSampling', (err, res) => {
    sampling = false;
    if (err) {
      process.stderr.write(`heap sampling: ${err.message}\n`);
      return;
    }
    mkdirSync(dir, { recursive: true });
    written += 1;
    const file = path.join(dir, `heap-${process.pid}-${written}.heapprofile`);
    writeFileSync(file, JSON.stringify(res.profile));
    process.stderr.write(`heap sampling: wrote ${file}\n`);
  });
});
