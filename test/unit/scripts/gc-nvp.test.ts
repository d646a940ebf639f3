import { expect } from 'chai';
import { summariseNvp } from '../../../scripts/lib/gc-nvp.js';

const MAIN = '[100:0x1a2b]';
const WORKER = '[100:0x7f00]';
const scavenge = (who: string, t: number, pause: number, allocated: number, promoted: number, survived: number) =>
  `${who}    ${t} ms: pause=${pause} mutator=1.0 gc=s reduce_memory=0 scavenge=0.5 allocated=${allocated} promoted=${promoted} new_space_survived=${survived} nodes_promoted=1`;
const markCompact = (t: number, pause: number) =>
  `${MAIN}    ${t} ms: pause=${pause} mutator=1.0 gc=mc reduce_memory=0 promoted=0 allocated=0`;

describe("gc-nvp: a load test node's collections over its check-in phase", () => {
  it("sums the main thread's collections between the first progress line and the summary, per acknowledged check-in", () => {
    const log = [
      scavenge(MAIN, 50, 1, 9_000_000, 9_000_000, 9_000_000), // start-up: not the phase
      '[cluster] 1s submitted 5000/10000, acked 4900, in flight 100, errors 0',
      scavenge(MAIN, 1_000, 4, 40_000_000, 1_000_000, 2_000_000),
      scavenge(WORKER, 1_100, 50, 7_000_000, 7_000_000, 7_000_000), // the record writer's isolate
      markCompact(1_500, 12),
      scavenge(MAIN, 3_000, 6, 60_000_000, 3_000_000, 4_000_000),
      '== cluster: 1 node(s), 20 rooms x 100 students + 2 screens/room',
      'check-ins           10000 submitted, 10000 acked in 2.0 s = 5000 check-ins/s (offered 5000/s)',
      scavenge(MAIN, 9_000, 30, 9_000_000, 9_000_000, 9_000_000), // shutdown: not the phase
    ].join('\n');
    expect(summariseNvp(log)).to.deep.equal({
      seconds: 2,
      acked: 10_000,
      scavenges: 2,
      scavengePauseMs: 10,
      scavengeMaxMs: 6,
      markCompacts: 1,
      markCompactPauseMs: 12,
      allocated: 100_000_000,
      promoted: 4_000_000,
      survived: 6_000_000,
    });
  });

  it("takes the main thread's isolate when a worker's prints first, and a terminal's progress lines ending in a carriage return", () => {
    const log = [
      '[cluster] 1s submitted 5000/10000, acked 4900, in flight 100, errors 0\r[cluster] 2s submitted 10000/10000, acked 10000\r',
      scavenge(WORKER, 1_010, 50, 7_000_000, 7_000_000, 7_000_000), // the record writer prints first
      scavenge(MAIN, 1_000, 4, 40_000_000, 1_000_000, 2_000_000),
      scavenge(MAIN, 2_000, 6, 60_000_000, 3_000_000, 4_000_000),
      '== cluster: 1 node(s)',
      'check-ins           10000 submitted, 10000 acked in 2.0 s = 5000 check-ins/s (offered 5000/s)',
    ].join('\n');
    const s = summariseNvp(log);
    expect(s).to.include({ acked: 10_000, scavenges: 2, scavengePauseMs: 10, promoted: 4_000_000, allocated: 100_000_000 });
  });

  it('takes the isolate that allocates most, not the worker thread that scavenges more often at a low rate', () => {
    const log = [
      '[cluster] 1s submitted 1000/2000, acked 1000, in flight 0, errors 0',
      scavenge(WORKER, 1_010, 1, 4_000_000, 0, 300_000),
      scavenge(MAIN, 1_500, 8, 50_000_000, 100_000, 2_000_000),
      scavenge(WORKER, 1_600, 1, 4_000_000, 0, 300_000),
      scavenge(WORKER, 2_200, 1, 4_000_000, 0, 300_000),
      '== cluster: 1 node(s)',
      'check-ins           2000 submitted, 2000 acked in 2.0 s = 1000 check-ins/s (offered 1000/s)',
    ].join('\n');
    expect(summariseNvp(log)).to.include({
      scavenges: 1,
      scavengePauseMs: 8,
      allocated: 50_000_000,
      promoted: 100_000,
      survived: 2_000_000,
    });
  });

  it('answers null for output with no collection of the node in the phase', () => {
    expect(summariseNvp('[cluster] 1s submitted 1/1, acked 1\n== cluster: done')).to.equal(null);
  });
});
