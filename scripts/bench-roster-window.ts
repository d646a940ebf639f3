/**
 * How long a roster change waits in its session's batch (src/realtime/roster-batches.ts) and how
 * many messages a screen gets, on a busy event loop but without the rest of the service: the load
 * test's figures at 5,000/s follow the machine's share more than the window (docs/multi-node.md,
 * "Roster window"). Real timers and `process.nextTick`, as in the service; the node's work is a
 * busy wait of `--cost-us` per check-in in the turn that stores it, so the timers run as late as
 * on a node that spends that much per check-in. The changes of one turn reach the batches
 * together in one run of the microtask queue, as a group commit's do.
 *
 * Besides the time held it prints the time from each check-in's acceptance (its time in the
 * schedule) to the send, which is what the roster's figure from the submit is made of on the
 * node; `--rounds` repeats the list of windows, alternated. `--commit-ms M`
 * stores each turn's check-ins after a wait drawn from an exponential law of mean M (the group
 * commit off the event loop: the cut, the writer thread, the answer; p99 about 4.6 M), so the
 * acceptance-to-stored time varies as on a node whose loop is not the bottleneck.
 *
 *   node --import tsx scripts/bench-roster-window.ts [--windows 50,40] [--rate 5000]
 *     [--sessions 20] [--cost-us 150] [--commit-ms 0] [--duration 10] [--rounds 1]
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { RosterBatches } from '../src/realtime/roster-batches.js';
import type { RosterEntry, RosterUpdates } from '../src/shared/events.js';

const { values: args } = parseArgs({
  options: {
    windows: { type: 'string', default: '50,45,40' },
    rate: { type: 'string', default: '5000' },
    sessions: { type: 'string', default: '20' },
    'cost-us': { type: 'string', default: '150' },
    duration: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '1' },
    'commit-ms': { type: 'string', default: '0' },
  },
});
const rate = Number(args.rate);
const sessionCount = Number(args.sessions);
const costMs = Number(args['cost-us']) / 1000;
const durationMs = Number(args.duration) * 1000;
const commitMs = Number(args['commit-ms']);

/** The wait for the commit of one turn's check-ins: exponential of mean `commitMs`, at most 10 means. */
function commitWait(): number {
  return Math.min(10 * commitMs, -commitMs * Math.log(1 - Math.random()));
}

function busy(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;

async function run(windowMs: number) {
  const held: number[] = [];
  const fromAccepted: number[] = [];
  const addedAt = new Map<string, number>();
  const acceptedAt = new Map<string, number>();
  const perSessionSecond = new Map<string, number>();
  const start = performance.now();
  const entry: RosterEntry = {
    studentId: 'st',
    name: 'Student',
    studentNumber: null,
    status: 'present',
    reason: null,
    flags: [],
    distanceM: null,
    accuracyM: null,
    attempts: 1,
    submittedAt: null,
    decidedAt: null,
    decidedBy: null,
    note: null,
    correctionReason: null,
    absenceCategory: null,
    recordId: 'r-st',
    recordVersion: 1,
    verification: null,
  };
  const batches = new RosterBatches(windowMs, (b: RosterUpdates) => {
    const now = performance.now();
    for (const u of b.updates) {
      const key = `${b.sessionId}/${u.version}`;
      held.push(now - addedAt.get(key)!);
      fromAccepted.push(now - acceptedAt.get(key)!);
      addedAt.delete(key);
      acceptedAt.delete(key);
    }
    const slot = `${b.sessionId}/${Math.floor((now - start) / 1000)}`;
    perSessionSecond.set(slot, (perSessionSecond.get(slot) ?? 0) + 1);
  });
  const versions = new Array<number>(sessionCount).fill(0);
  let offered = 0;
  let lagged = 0;
  await new Promise<void>((resolve) => {
    const turn = () => {
      const now = performance.now();
      if (now - start >= durationMs) return resolve();
      // Open loop: the check-ins the schedule has offered by now, round robin over the sessions.
      const due = Math.floor(((now - start) / 1000) * rate) - offered;
      const turnSessions: number[] = [];
      const turnAccepted: number[] = [];
      for (let i = 0; i < due; i += 1) {
        turnSessions.push((offered + i) % sessionCount);
        turnAccepted.push(start + ((offered + i + 1) * 1000) / rate);
      }
      offered += due;
      busy(due * costMs);
      lagged = Math.max(lagged, performance.now() - now);
      // The group commit's check-ins resume together and each publishes its change.
      const stored = (publish: () => void) =>
        commitMs > 0 ? void setTimeout(publish, commitWait()) : void Promise.resolve().then(publish);
      stored(() => {
        turnSessions.forEach((s, i) => {
          versions[s]! += 1;
          const sessionId = `s${s}`;
          const key = `${sessionId}/${versions[s]}`;
          addedAt.set(key, performance.now());
          acceptedAt.set(key, turnAccepted[i]!);
          batches.add({ sessionId, version: versions[s]!, entry });
        });
      });
      setImmediate(turn);
    };
    turn();
  });
  batches.flushAll();
  held.sort((a, b) => a - b);
  fromAccepted.sort((a, b) => a - b);
  const counts = [...perSessionSecond.values()];
  return {
    windowMs,
    changes: held.length,
    p50: pct(held, 50),
    p95: pct(held, 95),
    p99: pct(held, 99),
    max: held.at(-1)!,
    accepted: [50, 95, 99].map((p) => pct(fromAccepted, p)),
    perScreenPerS: counts.reduce((a, b) => a + b, 0) / counts.length,
    maxPerS: Math.max(...counts),
    longestTurnMs: lagged,
  };
}

const f = (n: number) => n.toFixed(1);
process.stdout.write(
  `${rate} check-ins/s over ${sessionCount} sessions, ${args['cost-us']} µs of main thread each, commit wait mean ${commitMs} ms, ${args.duration} s per window; load average ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}\n`,
);
process.stdout.write(
  '| window | held p50 / p95 / p99 / max (ms) | accepted → sent p50 / p95 / p99 (ms) | messages per screen per second (mean, max) | longest turn |\n| ---: | ---: | ---: | ---: | ---: |\n',
);
for (let round = 0; round < Number(args.rounds); round += 1) {
  for (const w of (args.windows ?? '').split(',').map(Number)) {
    const r = await run(w);
    process.stdout.write(
      `| ${w} ms | ${f(r.p50)} / ${f(r.p95)} / ${f(r.p99)} / ${f(r.max)} | ${r.accepted.map(f).join(' / ')} | ${f(r.perScreenPerS)}, ${r.maxPerS} | ${f(r.longestTurnMs)} ms |\n`,
    );
  }
}
process.stdout.write(
  `load average after ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}\n`,
);
