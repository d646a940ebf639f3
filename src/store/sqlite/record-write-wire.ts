import type { CheckinLocation, NewRecord, RecordAudit, RecordWrite } from '../../domain/ports/records.js';

// A batch as it crosses to the record writer thread and back (./record-writer.ts). postMessage
// copies with V8's serializer, which writes every key of every object again and builds every
// object again on the other side: for a batch of check-in inserts that copy was the main
// thread's heaviest frame under load (7-8 % of it). An insert travels as its values in a fixed
// order instead, one flat array for the batch: about half the bytes, a third less serializing
// on the main thread, a third of the deserializing on the thread. Updates (a retry after a
// rejection, a teacher's decision) are rarer and keep their object form.

/** A batch's writes on the wire: per insert INSERT and its values, per other write the write itself. */
export type WireWrites = unknown[];

const INSERT = 0;

/** The fields of an insert's record in wire order; `location` (nested) travels apart, after them. */
const RECORD_FIELDS = [
  'sessionId',
  'subjectId',
  'studentId',
  'status',
  'reason',
  'flags',
  'distanceM',
  'ip',
  'attempts',
  'submittedAt',
  'decidedAt',
  'decidedBy',
  'note',
  'correctionReason',
  'absenceCategory',
  'deviceId',
  'userAgent',
  'verification',
] as const satisfies readonly (keyof NewRecord)[];

const AUDIT_FIELDS = ['actorId', 'action', 'reason', 'ip'] as const satisfies readonly (keyof RecordAudit)[];

/** The location's fields as encodeWrites pushes them and decodeWrites reads them back, by hand. */
type LocationFields = 'lat' | 'lon' | 'accuracyM' | 'timestamp';

// A field added to a record, its location or an audit entry and not to the lists above fails
// the build here, rather than being dropped on its way to the thread (an optional one would be).
type Unlisted =
  | Exclude<keyof NewRecord, (typeof RECORD_FIELDS)[number] | 'location'>
  | Exclude<keyof RecordAudit, (typeof AUDIT_FIELDS)[number]>
  | Exclude<keyof CheckinLocation, LocationFields>;
const everyFieldListed: [Unlisted] extends [never] ? true : Unlisted = true;
void everyFieldListed;

/**
 * The batch in wire form: one array of values, in the order decodeWrites reads them. `scratch` is
 * an array the caller keeps from batch to batch (empty when given, emptied again before this
 * returns): the batch is laid out in it, then copied once at its exact length. Pushed into a new
 * array instead, it was copied at each of its growths (V8 grows an array by half), about two
 * thirds of this function's ~770 bytes per check-in of garbage (docs/multi-node.md "Round 32,
 * allocation"). Holding nothing between calls, it keeps no record or string alive.
 */
export function encodeWrites(writes: readonly RecordWrite[], scratch: unknown[] = []): WireWrites {
  let n = 0;
  for (const w of writes) {
    if (w.kind !== 'insert') {
      scratch[n++] = w;
      continue;
    }
    scratch[n++] = INSERT;
    scratch[n++] = w.orgId;
    const input = w.input;
    // An optional field left out is sent as undefined and left out again on the other side.
    for (const field of RECORD_FIELDS) scratch[n++] = input[field];
    const loc = input.location;
    if (loc === null) scratch[n++] = null;
    else {
      scratch[n++] = loc.lat;
      scratch[n++] = loc.lon;
      scratch[n++] = loc.accuracyM;
      scratch[n++] = loc.timestamp;
    }
    const audit = w.audit;
    for (const field of AUDIT_FIELDS) scratch[n++] = audit[field];
  }
  // A packed copy (no holes: postMessage copies a holey array key by key), then the scratch
  // array's slots cleared, keeping its length and so its room for the next batch.
  const out = scratch.slice(0, n);
  scratch.fill(undefined, 0, n);
  return out;
}

/** The writes encodeWrites was given, rebuilt (Dates and all, as postMessage copies them). */
export function decodeWrites(wire: WireWrites): RecordWrite[] {
  const writes: RecordWrite[] = [];
  let i = 0;
  while (i < wire.length) {
    const head = wire[i++];
    if (head !== INSERT) {
      writes.push(head as RecordWrite);
      continue;
    }
    const orgId = wire[i++] as string;
    const input: Record<string, unknown> = {};
    for (const field of RECORD_FIELDS) {
      const v = wire[i++];
      if (v !== undefined) input[field] = v;
    }
    const lat = wire[i++] as number | null;
    let location: CheckinLocation | null = null;
    if (lat !== null) {
      location = { lat, lon: wire[i] as number, accuracyM: wire[i + 1] as number, timestamp: wire[i + 2] as Date };
      i += 3;
    }
    input['location'] = location;
    const audit: Record<string, unknown> = {};
    for (const field of AUDIT_FIELDS) audit[field] = wire[i++];
    writes.push({ kind: 'insert', orgId, input: input as unknown as NewRecord, audit: audit as unknown as RecordAudit });
  }
  return writes;
}
