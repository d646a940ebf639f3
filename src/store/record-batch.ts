import type { AttendanceRecord, AuditRepository, RecordRepository, RecordWrite, RecordWriteResult } from '../domain/store-ports.js';

/**
 * writeBatch for a store without multi-document transactions (MongoDB): each write as its own
 * insertIfAbsent or update, then its audit entry, in order. Each is durable before the next
 * starts, so the batch is as durable as the per-check-in path, without its single commit.
 */
export async function writeRecordsOneByOne(
  records: Pick<RecordRepository, 'insertIfAbsent' | 'update' | 'get'>,
  audit: AuditRepository,
  writes: readonly RecordWrite[],
): Promise<RecordWriteResult[]> {
  const results: RecordWriteResult[] = [];
  for (const w of writes) {
    try {
      let before: AttendanceRecord | null = null;
      let after: AttendanceRecord | null;
      if (w.kind === 'insert') {
        const inserted = await records.insertIfAbsent(w.orgId, w.input);
        if (!inserted.created) {
          results.push({ written: false, record: inserted.record });
          continue;
        }
        after = inserted.record;
      } else {
        before = await records.get(w.orgId, w.id);
        after = await records.update(w.orgId, w.id, w.expectedVersion, w.patch);
        if (!after) {
          results.push({ written: false, record: await records.get(w.orgId, w.id) });
          continue;
        }
      }
      await audit.append(w.audit(before, after));
      results.push({ written: true, before, record: after });
    } catch (err) {
      results.push({ written: false, error: err });
    }
  }
  return results;
}
