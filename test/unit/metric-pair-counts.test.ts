import { expect } from 'chai';
import { EventBus } from '../../src/domain/events.js';
import { commandAnswers, createMetrics, observeDomainEvents } from '../../src/observability/metrics.js';
import type { CheckinView } from '../../src/shared/events.js';

// The counters bumped once per check-in count in plain numbers and add them at each scrape
// (src/observability/pair-counts.ts): what a scrape shows must be every count so far, once.

/** The value of `name` with exactly these labels in the registry's exposition, 0 when absent. */
async function valueOf(metrics: ReturnType<typeof createMetrics>, name: string, labels: Record<string, string>): Promise<number> {
  const text = await metrics.registry.metrics();
  const want = Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .sort()
    .join(',');
  for (const line of text.split('\n')) {
    const m = /^(\w+)\{([^}]*)\} (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    if (m[2]!.split(',').sort().join(',') === want) return Number(m[3]);
  }
  return 0;
}

describe('metric pair counts (counted as numbers, added at the scrape)', () => {
  it('socket command answers: each scrape shows every answer so far, none twice', async () => {
    const metrics = createMetrics();
    const count = commandAnswers(metrics);
    for (let i = 0; i < 5; i += 1) count('checkin:submit', 'ok');
    count('checkin:submit', 'FORBIDDEN');
    count('session:open', 'ok');
    expect(await valueOf(metrics, 'attendance_socket_commands_total', { event: 'checkin:submit', outcome: 'ok' })).to.equal(5);
    expect(await valueOf(metrics, 'attendance_socket_commands_total', { event: 'checkin:submit', outcome: 'FORBIDDEN' })).to.equal(1);
    expect(await valueOf(metrics, 'attendance_socket_commands_total', { event: 'session:open', outcome: 'ok' })).to.equal(1);
    // A second scrape with nothing new shows the same; counts after it are added once.
    expect(await valueOf(metrics, 'attendance_socket_commands_total', { event: 'checkin:submit', outcome: 'ok' })).to.equal(5);
    count('checkin:submit', 'ok');
    count('checkin:submit', 'ok');
    expect(await valueOf(metrics, 'attendance_socket_commands_total', { event: 'checkin:submit', outcome: 'ok' })).to.equal(7);
    expect(await valueOf(metrics, 'attendance_socket_commands_total', { event: 'session:open', outcome: 'ok' })).to.equal(1);
  });

  it('record changes by status and reason, from the domain events', async () => {
    const metrics = createMetrics();
    const bus = new EventBus((err) => {
      throw err;
    });
    const stop = observeDomainEvents(bus, metrics);
    const change = (status: CheckinView['status'], reason: CheckinView['reason']) =>
      bus.publish({
        type: 'roster.changed',
        orgId: 'o1',
        studentId: 's1',
        update: { sessionId: 'x', version: 1, entry: {} as never },
        checkin: { status, reason } as CheckinView,
        sessionClosed: false,
      });
    change('present', null);
    change('present', null);
    change('rejected', 'GEOFENCE_OUTSIDE');
    expect(await valueOf(metrics, 'attendance_record_changes_total', { status: 'present', reason: 'none' })).to.equal(2);
    expect(await valueOf(metrics, 'attendance_record_changes_total', { status: 'rejected', reason: 'GEOFENCE_OUTSIDE' })).to.equal(1);
    change('present', null);
    expect(await valueOf(metrics, 'attendance_record_changes_total', { status: 'present', reason: 'none' })).to.equal(3);
    expect(await valueOf(metrics, 'attendance_record_changes_total', { status: 'rejected', reason: 'GEOFENCE_OUTSIDE' })).to.equal(1);
    stop();
  });
});
