import { expect } from 'chai';
import { Histogram, Registry } from 'prom-client';
import { OperationDurations } from '../../src/observability/operation-durations.js';

// The store's timings (src/observability/operation-durations.ts) must read in Prometheus exactly
// as prom-client's Histogram did: same series, labels, buckets and values.

const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const OBSERVED: [string, number][] = [
  ['records.writeBatch', 0.0004],
  ['records.writeBatch', 0.003],
  ['records.writeBatch', 0.0031],
  ['users.getNames', 0.01],
  ['users.getNames', 12],
  ['records.writeBatch', 0.75],
  ['sessions.get', 0.001],
];

function both() {
  const theirs = new Registry();
  const ours = new Registry();
  const spec = { name: 'attendance_store_operation_duration_seconds', help: 'Store operations by repository method' };
  const histogram = new Histogram({ ...spec, labelNames: ['op'], buckets: BUCKETS, registers: [theirs] });
  const durations = new OperationDurations({ ...spec, buckets: BUCKETS, registers: [ours] });
  for (const [op, s] of OBSERVED) {
    histogram.labels({ op }).observe(s);
    durations.times(op).observe(s);
  }
  return { theirs, ours, durations };
}

describe('store operation durations', function () {
  it("reads as prom-client's histogram: the same text for the same observations", async function () {
    const { theirs, ours } = both();
    const text = await ours.metrics();
    expect(text).to.equal(await theirs.metrics());
    expect(text).to.include('attendance_store_operation_duration_seconds_bucket{le="0.005",op="records.writeBatch"} 3');
    expect(text).to.include('attendance_store_operation_duration_seconds_count{op="users.getNames"} 2');
  });

  it('gives the same JSON, and starts over on reset', async function () {
    const { theirs, ours } = both();
    expect(await ours.getMetricsAsJSON()).to.deep.equal(await theirs.getMetricsAsJSON());
    ours.resetMetrics();
    theirs.resetMetrics();
    expect(await ours.metrics()).to.equal(await theirs.metrics());
  });
});
