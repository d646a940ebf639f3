import type { RunResult } from './loadtest-report.js';
import type { RosterMessageRate } from './loadtest-roster.js';
import { quantiles, type NodeSample, type PerSecond, type Quantiles, type Timeline } from './loadtest-timeline.js';

/** The machine-readable result of one run (`summary.json` holds a list of these). */
export interface RunSummary {
  label: string;
  mode: 'open' | 'closed';
  /** Offered check-ins per second (open loop); 0 in closed loop. */
  rate: number;
  window: number;
  nodes: number;
  rooms: number;
  students: number;
  screens: number;
  sockets: { total: number; connected: number; connectErrors: number };
  totals: {
    offered: number;
    sent: number;
    acked: number;
    elapsedS: number;
    achievedPerS: number;
    busy: number;
    errors: Record<string, number>;
    ack: Quantiles;
    /** Submit -> the last screen of the room. */
    roster: Quantiles;
    /** Acknowledgement (the record stored) -> the last screen of the room. */
    rosterFromAck: Quantiles;
    rosterMessageRate: RosterMessageRate;
    rosterIncomplete: number;
    /** `roster:updates` messages received by all screens. */
    rosterMessages: number;
  };
  perSecond: PerSecond[];
  perNode: {
    name: string;
    rss: {
      idleMB: number | null;
      loadedMB: number | null;
      connections: number;
    };
    samples: NodeSample[];
  }[];
  /** The load generator itself: a busy generator understates the service. */
  generator: NodeSample[];
}

const mb = (bytes: number) => (Number.isNaN(bytes) ? null : Math.round((bytes / 1024 / 1024) * 10) / 10);

/** The summary of one run, from its text-report figures and its timeline. */
export function buildSummary(
  r: RunResult,
  timeline: Timeline,
  opts: {
    mode: 'open' | 'closed';
    rate: number;
    window: number;
    rooms: number;
    students: number;
    screens: number;
    offered: number;
    rosterMessages: number;
  },
): RunSummary {
  const errors = Object.fromEntries(r.errors);
  return {
    label: r.label,
    mode: opts.mode,
    rate: opts.rate,
    window: opts.window,
    nodes: r.nodes,
    rooms: opts.rooms,
    students: opts.students,
    screens: opts.screens,
    sockets: {
      total: r.sockets,
      connected: r.connected,
      connectErrors: r.connectErrors,
    },
    totals: {
      offered: opts.offered,
      sent: r.checkins,
      acked: r.acked,
      elapsedS: Math.round(r.elapsedS * 10) / 10,
      achievedPerS: Math.round(r.acked / r.elapsedS),
      busy: errors['BUSY'] ?? 0,
      errors,
      ack: quantiles(r.ack),
      roster: quantiles(r.propagation),
      rosterFromAck: r.rosterFromAck,
      rosterMessageRate: r.rosterMessageRate,
      rosterIncomplete: r.propagationMissing,
      rosterMessages: opts.rosterMessages,
    },
    perSecond: timeline.perSecond(),
    // Nodes of ours have RSS figures; nodes given with --urls only their samples (if any).
    perNode: [...new Set([...r.rss.map((n) => n.name), ...timeline.nodes.keys()])].map((name) => {
      const n = r.rss.find((x) => x.name === name);
      return {
        name,
        rss: {
          idleMB: n ? mb(n.idle) : null,
          loadedMB: n ? mb(n.loaded) : null,
          connections: n?.connections ?? 0,
        },
        samples: timeline.nodes.get(name) ?? [],
      };
    }),
    generator: timeline.generator,
  };
}
