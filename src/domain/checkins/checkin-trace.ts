/**
 * Where one check-in's time goes between its packet and its acknowledgement, for the load
 * generator's stage table (`scripts/loadtest.ts --stages`, docs/multi-node.md "Load"). Off unless
 * CHECKIN_STAGES_FILE is set: the callers test for the trace before building anything for it,
 * so a node without it pays one property read per step.
 *
 * Times are absolute milliseconds (`performance.timeOrigin + performance.now()`), comparable
 * across the node's threads and with the load generator's on the same machine.
 */
export type CheckinStage =
  /** The dispatcher got the decoded `checkin:submit` (the socket's packet parsed). */
  | 'received'
  /** The handler started: payload validated, rate budget counted, acting user checked. */
  | 'handler'
  /** The turn's reads (session, subject, enrolment, existing record, name) are in. */
  | 'read'
  /** Evaluated and handed to the group commit. */
  | 'queued'
  /** The group commit's promise settled and the handler resumed. */
  | 'resolved'
  /** The acknowledgement was handed to socket.io (its write leaves at the end of the turn). */
  | 'answered'
  /** The roster change reached the node's roster batches (src/realtime/roster-batches.ts). */
  | 'rostered'
  /** The roster message carrying the change was handed to socket.io for the screens. */
  | 'rosterSent';

export const CHECKIN_STAGES: readonly CheckinStage[] = [
  'received',
  'handler',
  'read',
  'queued',
  'resolved',
  'answered',
  'rostered',
  'rosterSent',
];

/** One batch of the group commit, as its check-ins lived it. */
export interface CheckinBatchTimes {
  /** Taken off the queue (the window ran out, the batch filled, or the previous batch was stored). */
  cut: number;
  /** The peer reads and the writes built: handed to the store. */
  posted: number;
  /** The store's answer back on the event loop. */
  stored: number;
}

export interface CheckinTrace {
  now(): number;
  mark(sessionId: string, studentId: string, stage: CheckinStage, at?: number): void;
  batch(items: readonly { sessionId: string; studentId: string }[], times: CheckinBatchTimes): void;
}
