/**
 * What a node's garbage collector did over a load test's check-in phase, per check-in, from V8's
 * own per-collection lines (`--trace-gc-nvp`): bytes allocated, bytes promoted to the old space,
 * bytes copied within the young generation (what each scavenge's length follows), and the
 * scavenges and mark-compacts with their pauses. Bytes depend on the code, not on the machine's
 * load (a saturated node's check-ins wait longer and promote more: read the rate beside them).
 *
 *   npx tsx scripts/loadtest.ts --nodes 1 ... --node-flags=--trace-gc-nvp > RUN.log 2>&1
 *   node --import tsx scripts/gc-nvp.ts RUN.log [RUN2.log ...]
 *
 * The check-in phase is the lines between the load test's first `[cluster] Ns submitted` progress
 * line (stderr: keep it in the log) and its `== cluster:` summary, whose acknowledged check-ins
 * divide the bytes; the isolate that allocates the most there is the node's main thread (a
 * worker thread's lines, the record writer's, are left out). One node only: with several, their
 * lines interleave under other isolates.
 */
import { readFileSync } from 'node:fs';
import { summariseNvp, type NvpSummary } from './lib/gc-nvp.js';

function line(file: string, s: NvpSummary): string {
  const per = (bytes: number) => (s.acked ? `${(bytes / s.acked).toFixed(0)} B` : '–');
  return [
    `${file}: ${s.seconds.toFixed(1)} s, ${s.acked ?? '?'} check-ins acknowledged`,
    `  per check-in: allocated ${per(s.allocated)}, promoted ${per(s.promoted)}, copied in the young generation ${per(s.survived)}`,
    `  per second: promoted ${(s.promoted / s.seconds / 1e6).toFixed(2)} MB`,
    `  scavenges ${s.scavenges} (${(s.scavenges / s.seconds).toFixed(2)}/s), pauses ${s.scavengePauseMs.toFixed(0)} ms in all, longest ${s.scavengeMaxMs.toFixed(1)} ms; ` +
      `${(s.survived / Math.max(1, s.scavenges) / 1e6).toFixed(2)} MB copied and ${(s.promoted / Math.max(1, s.scavenges) / 1e6).toFixed(2)} MB promoted each`,
    `  mark-compacts ${s.markCompacts}, pauses ${s.markCompactPauseMs.toFixed(0)} ms in all`,
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const files = process.argv.slice(2);
  if (files.length === 0) {
    process.stdout.write('usage: gc-nvp.ts RUN.log [RUN2.log ...] (load test output with --node-flags=--trace-gc-nvp)\n');
    process.exit(1);
  }
  for (const file of files) {
    const s = summariseNvp(readFileSync(file, 'utf8'));
    process.stdout.write(s ? `${line(file, s)}\n` : `${file}: no collection of the node's main thread in the check-in phase\n`);
  }
}
