import type { NewRecord, RecordAudit, RecordWrite, RecordWriteResult } from '../../domain/ports/records.js';

// How a batch crosses to the record writer thread and its answers come back
// (docs/multi-node.md, "Record writer"). postMessage copies by structured clone, which writes
// every property name of every object and every string again: a batch of new check-ins as
// objects was about 740 bytes per write, and copying it took 5 to 6 % of the main thread under
// load. Here a batch is one flat array of values (no names), and the strings a batch repeats
// (organisation, session, subject, status, browser, address, action) are sent once each:
// about 210 bytes per write, less than half the time on each side.

/** An error crossing the thread boundary: the classes the callers tell apart, rebuilt on this side. */
export type WireError =
  | { name: 'StoreConflictError'; key: string }
  | { name: 'StoreBusyError' }
  | { name: 'SqliteError'; message: string; code: string }
  | { name: 'Error'; message: string };

/**
 * A write's outcome as the worker sends it. A new record (most of a batch) comes back as its id
 * and roster version only, and is rebuilt here from the write and the batch's time, as the insert
 * built it (insertedRecord): a third of the bytes to copy, and fewer objects for the main
 * thread's garbage collector.
 */
export type WireWriteResult =
  { inserted: string; rosterVersion: number } | Exclude<RecordWriteResult, { error: unknown }> | { written: false; error: WireError };

/** Every field of a new record, in the order of the wire. The type below keeps it complete. */
const INPUT_FIELDS = [
  'sessionId',
  'subjectId',
  'studentId',
  'status',
  'reason',
  'flags',
  'distanceM',
  'location',
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
/** A field of NewRecord missing above fails the build here (it would not reach the store). */
const inputFieldsComplete: Exclude<keyof NewRecord, (typeof INPUT_FIELDS)[number]> extends never ? true : never = true;
void inputFieldsComplete;

const AUDIT_FIELDS = ['actorId', 'action', 'reason', 'ip'] as const satisfies readonly (keyof RecordAudit)[];
const auditFieldsComplete: Exclude<keyof RecordAudit, (typeof AUDIT_FIELDS)[number]> extends never ? true : never = true;
void auditFieldsComplete;

/** Fields whose strings repeat within a batch: sent once, then by their index in `strings`. */
const SHARED_INPUT = new Set<string>(['sessionId', 'subjectId', 'status', 'reason', 'ip', 'userAgent']);
const SHARED_AUDIT = new Set<string>(['action', 'ip']);

const INSERT = 0;
/** Any other write (a retry's update) is sent as the object it is: rare, and not worth a layout. */
const OTHER = 1;

/** A batch of writes as the record writer thread receives it. */
export interface WireBatch {
  strings: string[];
  /** Per write: INSERT, the organisation, the input's fields, the audit's fields; or OTHER and the write. */
  values: unknown[];
}

/**
 * Flattens the batch for postMessage. A field a record leaves out (an optional one) is sent as
 * undefined and left out again on the other side, so the worker builds exactly these writes.
 */
export function encodeWrites(writes: readonly RecordWrite[]): WireBatch {
  const strings: string[] = [];
  const index = new Map<string, number>();
  const shared = (v: unknown): unknown => {
    if (typeof v !== 'string') return v;
    let i = index.get(v);
    if (i === undefined) {
      i = strings.length;
      strings.push(v);
      index.set(v, i);
    }
    return i;
  };
  const values: unknown[] = [];
  for (const w of writes) {
    if (w.kind !== 'insert') {
      values.push(OTHER, w);
      continue;
    }
    values.push(INSERT, shared(w.orgId));
    for (const f of INPUT_FIELDS) values.push(SHARED_INPUT.has(f) ? shared(w.input[f]) : w.input[f]);
    for (const f of AUDIT_FIELDS) values.push(SHARED_AUDIT.has(f) ? shared(w.audit[f]) : w.audit[f]);
  }
  return { strings, values };
}

/** The writes encodeWrites flattened, rebuilt on the worker's side. */
export function decodeWrites(batch: WireBatch): RecordWrite[] {
  const { strings, values } = batch;
  // A shared field holds the index of its string; null and undefined stay themselves.
  const str = (v: unknown): unknown => (typeof v === 'number' ? strings[v] : v);
  const writes: RecordWrite[] = [];
  let i = 0;
  while (i < values.length) {
    const tag = values[i++];
    if (tag === OTHER) {
      writes.push(values[i++] as RecordWrite);
      continue;
    }
    if (tag !== INSERT) throw new Error(`the record writer received a write tagged ${String(tag)}`);
    const orgId = str(values[i++]) as string;
    const input: Record<string, unknown> = {};
    for (const f of INPUT_FIELDS) {
      const v = values[i++];
      if (v !== undefined) input[f] = SHARED_INPUT.has(f) ? str(v) : v;
    }
    const audit: Record<string, unknown> = {};
    for (const f of AUDIT_FIELDS) {
      const v = values[i++];
      if (v !== undefined) audit[f] = SHARED_AUDIT.has(f) ? str(v) : v;
    }
    writes.push({ kind: 'insert', orgId, input: input as unknown as NewRecord, audit: audit as unknown as RecordAudit });
  }
  return writes;
}

/**
 * A batch's answers as the worker sends them: a new record (most of a batch) as two values, its
 * id and its roster version; any other answer as the object it is (never a string).
 */
export function encodeResults(results: readonly WireWriteResult[]): unknown[] {
  const values: unknown[] = [];
  for (const r of results) {
    if ('inserted' in r) values.push(r.inserted, r.rosterVersion);
    else values.push(r);
  }
  return values;
}

/** The answers encodeResults flattened, one per write again. */
export function decodeResults(values: readonly unknown[]): WireWriteResult[] {
  const results: WireWriteResult[] = [];
  for (let i = 0; i < values.length; i += 1) {
    const v = values[i];
    if (typeof v === 'string') results.push({ inserted: v, rosterVersion: values[++i] as number });
    else results.push(v as WireWriteResult);
  }
  return results;
}
