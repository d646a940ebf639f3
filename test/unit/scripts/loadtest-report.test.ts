import { expect } from 'chai';
import { renderHtml, uplotAssets } from '../../../scripts/lib/loadtest-html.js';
import { buildSummary } from '../../../scripts/lib/loadtest-summary.js';
import { report } from '../../../scripts/lib/loadtest-report.js';
import { parseLag, Timeline } from '../../../scripts/lib/loadtest-timeline.js';
import type { RunResult } from '../../../scripts/lib/loadtest-report.js';
import { RosterLatency } from '../../../scripts/lib/loadtest-roster.js';

/** A run of 4,000 acknowledged check-ins in 2 s with the nodes' CPU given. */
const cpuRun = (cpu: RunResult['cpu']): RunResult => ({
  label: 'cluster',
  nodes: cpu.length,
  sockets: 4,
  connected: 4,
  connectErrors: 0,
  checkins: 4_000,
  acked: 4_000,
  errors: new Map(),
  elapsedS: 2,
  ack: [],
  propagation: [],
  propagationMissing: 0,
  rosterFromAck: { n: 0, p50: null, p95: null, p99: null, max: null },
  rosterMessageRate: { screens: 0, meanPerActiveSecond: null, maxPerSecond: 0 },
  rss: [],
  cpu,
});

function sampleRun() {
  const timeline = new Timeline(1_000);
  // Second 0: 3 offered, 2 sent, one acked in 10 ms, one BUSY; second 1: one acked in 30 ms, a roster change at 40 ms.
  timeline.offered(1_100, 3);
  timeline.sent(1_100);
  timeline.sent(1_200);
  timeline.answered(1_110, 10, null);
  timeline.answered(1_300, 12, 'BUSY');
  timeline.answered(2_050, 30, null);
  timeline.roster(2_060, 40);
  timeline.node('load-0', {
    t: 1,
    cpuPct: 95.5,
    rssMB: 180,
    lagP99Ms: 12.5,
    lagMaxMs: 30,
  });
  timeline.generator.push({
    t: 1,
    cpuPct: 40,
    rssMB: 90,
    lagP99Ms: 3,
    lagMaxMs: 8,
  });
  const roster = new RosterLatency(1_000);
  roster.acked('s/st1', 2_030);
  roster.message(0, 2_050);
  roster.message(1, 2_060);
  roster.shown('s/st1', 2_060);
  const result: RunResult = {
    label: 'cluster',
    nodes: 1,
    sockets: 12,
    connected: 12,
    connectErrors: 0,
    checkins: 2,
    acked: 2,
    errors: new Map([['BUSY', 1]]),
    elapsedS: 2,
    ack: [10, 12, 30],
    propagation: [40],
    propagationMissing: 0,
    rosterFromAck: roster.ackToScreen(),
    rosterMessageRate: roster.messageRate(),
    rss: [
      {
        name: 'load-0',
        idle: 100 * 1024 * 1024,
        loaded: 180 * 1024 * 1024,
        connections: 12,
      },
    ],
    cpu: [{ name: 'load-0', seconds: 1.9 }],
  };
  return buildSummary(result, timeline, {
    mode: 'open',
    rate: 3,
    window: 10,
    rooms: 1,
    students: 10,
    screens: 2,
    offered: 3,
    rosterMessages: 1,
  });
}

describe('load test report (scripts/lib/loadtest-*)', () => {
  it('summarises per second: offered, sent, achieved, latency percentiles and errors by code; per node CPU, RSS and lag', () => {
    const s = sampleRun();
    expect(s).to.include({ label: 'cluster', mode: 'open', rate: 3, nodes: 1 });
    expect(s.totals).to.deep.include({
      offered: 3,
      sent: 2,
      acked: 2,
      achievedPerS: 1,
      busy: 1,
      errors: { BUSY: 1 },
      rosterMessages: 1,
      rosterMessageRate: { screens: 2, meanPerActiveSecond: 1, maxPerSecond: 1 },
    });
    expect(s.totals.rosterFromAck).to.deep.include({ n: 1, p99: 30 });
    expect(s.totals.ack).to.deep.equal({
      n: 3,
      p50: 12,
      p95: 30,
      p99: 30,
      max: 30,
    });
    expect(s.perSecond).to.have.length(2);
    expect(s.perSecond[0]).to.deep.include({
      t: 0,
      offered: 3,
      sent: 2,
      acked: 1,
      errors: { BUSY: 1 },
    });
    expect(s.perSecond[0]!.ack).to.deep.include({ n: 2, p50: 10, p99: 12 });
    expect(s.perSecond[1]).to.deep.include({ t: 1, offered: 0, acked: 1 });
    expect(s.perSecond[1]!.roster).to.deep.include({ n: 1, p99: 40 });
    expect(s.perNode).to.deep.equal([
      {
        name: 'load-0',
        rss: { idleMB: 100, loadedMB: 180, connections: 12 },
        samples: [{ t: 1, cpuPct: 95.5, rssMB: 180, lagP99Ms: 12.5, lagMaxMs: 30 }],
      },
    ]);
    expect(s.generator).to.have.length(1);
    // What summary.json holds survives JSON as it is.
    expect(JSON.parse(JSON.stringify(s))).to.deep.equal(s);
  });

  it("prints the nodes' CPU per acknowledged check-in and each node's share of a core over the check-ins", () => {
    const opts = { rooms: 1, students: 4, screens: 0, rate: 2_000 };
    const line = (text: string) => text.split('\n').find((l) => l.startsWith('node cpu'));
    expect(line(report(cpuRun([{ name: 'load-0', seconds: 0.7 }]), opts))).to.equal(
      'node cpu            0.175 ms per acknowledged check-in, all nodes; share of a core: load-0 35 %',
    );
    expect(
      line(
        report(
          cpuRun([
            { name: 'load-0', seconds: 0.5 },
            { name: 'load-1', seconds: null },
          ]),
          opts,
        ),
      ),
    ).to.equal('node cpu            0.125 ms per acknowledged check-in, all nodes (1 of 2 nodes read); share of a core: load-0 25 %');
    // Nodes given with --urls: nothing to read, no line.
    expect(line(report(cpuRun([]), opts))).to.equal(undefined);
  });

  it("prints each node's CPU by thread per acknowledged check-in, busiest first", () => {
    const opts = { rooms: 1, students: 4, screens: 0, rate: 2_000 };
    const lines = (text: string) => text.split('\n').filter((l) => l.startsWith('node threads'));
    expect(
      lines(
        report(
          cpuRun([
            {
              name: 'load-0',
              seconds: 0.8,
              threads: { main: 0.4, helpers: 0.08, 'record-writer': 0.2, 'wal-checkpoint': 0.12, idle: 0 },
            },
            { name: 'load-1', seconds: 0.5, threads: null },
          ]),
          opts,
        ),
      ),
    ).to.deep.equal([
      'node threads        load-0: main 0.100, record-writer 0.050, wal-checkpoint 0.030, helpers 0.020 ms per acknowledged check-in',
    ]);
  });

  it('reads the event-loop lag out of a /metrics page', () => {
    const page =
      '# HELP x\nnodejs_eventloop_lag_p99_seconds 0.0125\nnodejs_eventloop_lag_max_seconds 0.03\nnodejs_eventloop_lag_p50_seconds 0.01\n';
    expect(parseLag(page)).to.deep.equal({ p99Ms: 12.5, maxMs: 30 });
    expect(parseLag('')).to.deep.equal({ p99Ms: null, maxMs: null });
  });

  it('renders one self-contained HTML page: uPlot inlined, the data embedded, nothing fetched', () => {
    const s = sampleRun();
    const assets = uplotAssets();
    const html = renderHtml([s], 'text report </script><b>', assets);
    expect(assets.js.length).to.be.above(10_000);
    expect(html).to.contain(assets.js.slice(0, 200));
    expect(html).to.contain(assets.css.slice(0, 100));
    // Nothing loaded from elsewhere (uPlot's licence comment names its repository, which is not a fetch).
    expect(html).to.not.match(/<script[^>]+src=|<link[^>]+href=|<img|@import|url\(\s*['"]?https?:/i);
    const json = /<script id="summary" type="application\/json">([\s\S]*?)<\/script>/.exec(html)![1]!;
    expect(JSON.parse(json)).to.deep.equal([s]);
    // The text report is escaped, so it cannot end the page's scripts.
    expect(html).to.contain('text report &#60;/script&#62;&#60;b&#62;');
    for (const title of ['achieved vs offered', 'Acknowledgement latency', 'Roster latency', 'CPU per node'])
      expect(html).to.contain(title);
  });
});
