import { expect } from 'chai';
import { expectScreensEqual, openWatched, readSession, type BalancedNodes } from './balanced-nodes.js';
import { deliver, newPhone, type Phone } from './page-clients.js';
import { waitFor } from './sockets.js';
import type { StickyBalancer } from './sticky-balancer.js';

export const POLLING_STUDENTS = 40;
/** Checked in before the kill. */
const BEFORE = 10;
/** Sent at once; B is killed once KILL_AFTER_ACKS of them are answered, the rest in flight. */
const BURST = 20;
const KILL_AFTER_ACKS = 3;
/** Small batches with a window, so check-ins of the burst are still in a batch when the node dies. */
export const POLLING_BATCHED = { CHECKIN_RATE_PER_MINUTE: '600', CHECKIN_BATCH_WINDOW_MS: '20', CHECKIN_BATCH_MAX: '5' };

/** Where each client connects from; none: every client from 127.0.0.1. */
export interface ClientAddresses {
  /** The projector's and the teacher phone's addresses. */
  screens: [string, string];
  /** Student i's phone's address. */
  phone(i: number): string;
}

/**
 * The scenario of a node killed under long-polling clients, whatever keeps them sticky: every
 * client on long-polling alone through `nodes.balancer`; B killed (SIGKILL) with check-ins in
 * flight; its phones' next requests find it refusing and the balancer sends them to A, where they
 * handshake again and rejoin; each pending check-in is answered once (found stored by the join,
 * or sent again) and both screens converge to the store. `onB` says which phones B held (all the
 * balancer sent there, for a cookie; those whose address hashes to B, for an address hash).
 */
export async function killUnderPollingPhones(
  nodes: BalancedNodes<StickyBalancer>,
  from: ClientAddresses | null,
  screenNames: [string, string],
): Promise<{ phones: Phone[] }> {
  const { bench, b, balancer, url, portOf } = nodes;
  const { students, tokens } = bench;
  const watched = await openWatched(nodes, { geofence: true, rotatingCode: false }, 'polling', from?.screens ?? []);
  const { sessionId: sid, projector, teacherPhone } = watched;
  expect(projector.socket.io.engine.transport.name).to.equal('polling');

  const phones: Phone[] = students.map((s, i) => newPhone(url, tokens.signAccess(s).token, () => sid, 'polling', from?.phone(i)));
  nodes.keep(...phones.map((p) => p.socket));
  await waitFor(() => phones.every((p) => p.socket.connected));
  // Sticky: a long-polling session's every request reached the node that admitted it.
  expect(balancer.moved, 'requests moved before the kill').to.equal(0);
  const onB = balancer.relayed.get(portOf(b)) ?? 0;
  expect(onB, 'requests on B').to.be.above(POLLING_STUDENTS);

  await Promise.all(phones.slice(0, BEFORE).map((p) => deliver(p, sid)));
  expect(phones.slice(0, BEFORE).every((p) => p.answer?.status === 'present')).to.equal(true);

  let burstAnswers = 0;
  const burst = phones.slice(BEFORE, BEFORE + BURST).map((p) =>
    deliver(p, sid, () => {
      burstAnswers += 1;
      if (burstAnswers === KILL_AFTER_ACKS) b.child.kill('SIGKILL');
    }),
  );
  await waitFor(() => b.child.signalCode === 'SIGKILL', 30_000, 5);
  const late = phones.slice(BEFORE + BURST).map((p) => deliver(p, sid));
  await Promise.all([...burst, ...late]);

  const cut = phones.filter((p) => p.disconnects > 0);
  expect(cut.length, "B's phones lost their connection").to.be.above(POLLING_STUDENTS / 4);
  expect(phones.filter((p) => p.lostAnswer).length, 'check-ins in flight when B died').to.be.above(0);
  expect(balancer.cut, 'long-polls cut by the kill').to.be.above(0);
  expect(balancer.moved, "requests of B's clients moved to A").to.be.above(0);
  // A phone whose check-in was answered before the kill reconnects on its own backoff (up to
  // reconnectionDelayMax), which may end after the last delivery: wait for it, bounded.
  await waitFor(() => phones.every((p) => p.socket.connected && p.socket.io.engine.transport.name === 'polling'), 20_000, 20);
  await waitFor(() => teacherPhone.socket.connected && teacherPhone.feed.watching === sid, 20_000, 20);
  const { records, submitted } = await readSession(bench, sid);
  expect(records.length).to.equal(POLLING_STUDENTS);
  expect(new Set(records.map((r) => r.studentId)).size).to.equal(POLLING_STUDENTS);
  expect(submitted, "'checkin.submit' audit entries").to.equal(POLLING_STUDENTS);
  expect(records.filter((r) => r.attempts !== 1).map((r) => r.studentId)).to.deep.equal([]);
  const byStudent = new Map(records.map((r) => [r.studentId, r]));
  for (const [i, p] of phones.entries()) {
    const stored = byStudent.get(students[i]!.id);
    expect(p.answer?.recordId, `student ${i}`).to.equal(stored?.id);
    expect(p.answer?.status, `student ${i}`).to.equal(stored?.status);
  }
  for (const p of phones.filter((x) => x.foundHeld)) expect(p.submissions, 'a held record is not sent again').to.equal(1);
  // Grace rule: a phone of B checked in before the kill is told its record by its resync's join on A.
  const before = phones.slice(0, BEFORE).filter((p) => p.disconnects > 0);
  expect(before.length).to.be.above(0);
  await waitFor(() => before.every((p) => p.held?.recordId === p.answer?.recordId));

  await expectScreensEqual(watched, records, screenNames);
  return { phones };
}
