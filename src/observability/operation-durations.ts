import { Histogram, type Registry } from 'prom-client';

/** One operation's counts, kept by the caller (observeStore keeps one per repository method). */
export interface OperationTimes {
  /** Counts a duration in seconds. */
  observe(seconds: number): void;
}

interface Times extends OperationTimes {
  readonly buckets: Float64Array;
  sum: number;
  count: number;
}

type Values = Awaited<ReturnType<Histogram<'op'>['get']>>['values'];

/**
 * A histogram of durations by operation, as Prometheus reads prom-client's Histogram (the same
 * series, buckets and text), for a label observed on every store call: prom-client's labelled
 * timer took two `hrtime` arrays, a merged labels object, a label check and a hash string per
 * observation, 4 to 5 % of the main thread under the check-in load (docs/multi-node.md, "Load").
 * Here an operation's counts are one object, looked up once, and an observation is a few
 * additions; the series are built when Prometheus scrapes.
 */
export class OperationDurations extends Histogram<'op'> {
  private readonly bounds: readonly number[];
  private readonly ops = new Map<string, Times>();
  private readonly metricName: string;
  private readonly metricHelp: string;

  constructor(opts: { name: string; help: string; buckets: readonly number[]; registers: Registry[] }) {
    super({ name: opts.name, help: opts.help, labelNames: ['op'], buckets: [...opts.buckets], registers: opts.registers });
    this.bounds = [...opts.buckets].sort((a, b) => a - b);
    this.metricName = opts.name;
    this.metricHelp = opts.help;
  }

  /** The counts of one operation, made at its first use. */
  times(op: string): OperationTimes {
    let t = this.ops.get(op);
    if (!t) {
      const bounds = this.bounds;
      const buckets = new Float64Array(bounds.length);
      t = {
        buckets,
        sum: 0,
        count: 0,
        observe(seconds) {
          this.sum += seconds;
          this.count += 1;
          // Counted in its own bucket only; the export adds them up (le is cumulative).
          for (let i = 0; i < bounds.length; i += 1) {
            if (seconds <= bounds[i]!) {
              buckets[i]! += 1;
              return;
            }
          }
        },
      };
      this.ops.set(op, t);
    }
    return t;
  }

  override reset(): void {
    super.reset();
    // prom-client's constructor resets too, before this class's fields exist.
    this.ops?.clear();
  }

  /** What the registry's text exposition reads: prom-client's values for a histogram, label `op` shared. */
  async getForPromString(): Promise<{ name: string; help: string; type: 'histogram'; values: Values; aggregator: 'sum' }> {
    return { name: this.metricName, help: this.metricHelp, type: 'histogram', values: this.values(true), aggregator: 'sum' };
  }

  override async get(): ReturnType<Histogram<'op'>['get']> {
    const data = await super.get();
    return { ...data, values: this.values(false) };
  }

  private values(shared: boolean): Values {
    const values: Values = [];
    const bucketName = `${this.metricName}_bucket`;
    for (const [op, t] of this.ops) {
      // As prom-client builds them: a bucket's exemplar null, the sum's and count's none.
      const labelled = (labels: Record<string, string | number>, value: number, metricName: string, exemplar?: null) =>
        shared ? { labels, sharedLabels: { op }, value, metricName, exemplar } : { labels: { ...labels, op }, value, metricName, exemplar };
      let acc = 0;
      this.bounds.forEach((le, i) => {
        acc += t.buckets[i]!;
        values.push(labelled({ le }, acc, bucketName, null));
      });
      values.push(labelled({ le: '+Inf' }, t.count, bucketName, null));
      values.push(labelled({}, t.sum, `${this.metricName}_sum`));
      values.push(labelled({}, t.count, `${this.metricName}_count`));
    }
    return values;
  }
}
