import { newExcuseEntity } from '../new-entities.js';
import { pendingScopeKey, type Excuse, type ExcuseDocumentInfo, type ExcuseRepository } from '../../domain/ports/excuses.js';
import { ActorGoneError } from '../../domain/ports/common.js';
import type { SqliteDb } from './db.js';
import { insertSql, type Row } from './common-mappers.js';
import { audit } from './audit-mappers.js';
import { newTimeOrderedId } from '../../shared/ids.js';
import { totalFromPage } from '../../domain/paging.js';

/** Every column but the document's bytes, which only getDocument reads. */
const COLUMNS =
  'id, org_id, student_id, submitted_by, subject_id, session_id, from_day, to_day, category, text, document, status, decided_by, decided_at, decision_note, created_at, updated_at';

function fromRow(r: Row): Excuse {
  return {
    id: r.id as string,
    orgId: r.org_id as string,
    studentId: r.student_id as string,
    submittedBy: r.submitted_by as string,
    subjectId: (r.subject_id as string | null) ?? null,
    sessionId: (r.session_id as string | null) ?? null,
    fromDay: r.from_day as string,
    toDay: r.to_day as string,
    category: r.category as string,
    text: r.text as string,
    document: r.document == null ? null : parseDocument(r.document as string),
    status: r.status as Excuse['status'],
    decidedBy: (r.decided_by as string | null) ?? null,
    decidedAt: r.decided_at == null ? null : new Date(r.decided_at as number),
    decisionNote: (r.decision_note as string | null) ?? null,
    createdAt: new Date(r.created_at as number),
    updatedAt: new Date(r.updated_at as number),
  };
}

function parseDocument(text: string): ExcuseDocumentInfo {
  try {
    return JSON.parse(text) as ExcuseDocumentInfo;
  } catch (err) {
    throw new Error('corrupt JSON in column excuses.document', { cause: err });
  }
}

export function excuseRepository(db: SqliteDb, clock: () => Date): ExcuseRepository {
  const auditInsert = insertSql(audit, false);
  return {
    async create(orgId, input) {
      const e = newExcuseEntity(orgId, input, clock());
      const key = pendingScopeKey(e);
      return db.tx(() => {
        // The unique pending key refuses the insert when the scope has a pending excuse (even one
        // written by another process on the file): that one is the answer.
        const inserted = db
          .stmt(
            `INSERT INTO excuses (id, org_id, student_id, submitted_by, subject_id, session_id, from_day, to_day, category, text, status, pending_key, created_at, updated_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?)
             ON CONFLICT (org_id, pending_key) WHERE pending_key IS NOT NULL DO NOTHING`,
          )
          .run(
            e.id,
            orgId,
            e.studentId,
            e.submittedBy,
            e.subjectId,
            e.sessionId,
            e.fromDay,
            e.toDay,
            e.category,
            e.text,
            key,
            e.createdAt.getTime(),
            e.updatedAt.getTime(),
          );
        if (inserted.changes === 1) return { excuse: e, created: true };
        const r = db.stmt(`SELECT ${COLUMNS} FROM excuses WHERE org_id = ? AND pending_key = ?`).get(orgId, key);
        if (!r) throw new Error('excuse refused by its pending key, and no excuse holds the key');
        return { excuse: fromRow(r), created: false };
      });
    },
    async get(orgId, id) {
      const r = db.stmt(`SELECT ${COLUMNS} FROM excuses WHERE org_id = ? AND id = ?`).get(orgId, id);
      return r ? fromRow(r) : null;
    },
    async list(orgId, filter) {
      const where = ['org_id = ?'];
      const args: unknown[] = [orgId];
      if (filter.studentId !== undefined) {
        where.push('student_id = ?');
        args.push(filter.studentId);
      }
      if (filter.subjectIds !== undefined) {
        if (filter.subjectIds.length === 0) return { items: [], total: 0 };
        where.push(`subject_id IN (${filter.subjectIds.map(() => '?').join(', ')})`);
        args.push(...filter.subjectIds);
      }
      if (filter.status !== undefined) {
        where.push('status = ?');
        args.push(filter.status);
      }
      const w = where.join(' AND ');
      const { after } = filter;
      const from = after ? `${w} AND (created_at < ? OR (created_at = ? AND id < ?))` : w;
      const fromArgs = after ? [...args, after.createdAt.getTime(), after.createdAt.getTime(), after.id] : args;
      const rows = db
        .stmt(`SELECT ${COLUMNS} FROM excuses WHERE ${from} ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?`)
        .all(...fromArgs, filter.limit, filter.offset);
      // A page after a key tells nothing of those before it: counted.
      const total =
        (after ? null : totalFromPage(rows.length, filter)) ??
        db.stmt<{ n: number }>(`SELECT COUNT(*) AS n FROM excuses WHERE ${w}`).get(...args)!.n;
      return { items: rows.map(fromRow), total };
    },
    async listApprovedCovering(orgId, studentIds, sessionId, subjectId, day) {
      if (studentIds.length === 0) return [];
      const rows = db
        .stmt(
          `SELECT ${COLUMNS} FROM excuses
           WHERE org_id = ? AND status = 'approved' AND student_id IN (SELECT value FROM json_each(?))
             AND (session_id = ? OR (session_id IS NULL AND from_day <= ? AND to_day >= ? AND (subject_id IS NULL OR subject_id = ?)))
           ORDER BY decided_at, rowid`,
        )
        .all(orgId, JSON.stringify(studentIds), sessionId, day, day, subjectId);
      return rows.map(fromRow);
    },
    async decide(orgId, id, d, entry, seen) {
      // One transaction with the decider's check, which an erasure's cannot interleave.
      return db.tx(() => {
        if (d.decidedBy !== null && !db.stmt('SELECT 1 FROM users WHERE id = ? AND org_id = ?').get(d.decidedBy, orgId)) {
          throw new ActorGoneError(d.decidedBy);
        }
        const r = db
          .stmt(
            `UPDATE excuses SET status = ?, decided_by = ?, decided_at = ?, decision_note = ?, updated_at = ?, pending_key = NULL
             WHERE org_id = ? AND id = ? AND status = 'pending'
               AND (? = 0 OR (updated_at = ? AND category = ? AND text = ?)) RETURNING ${COLUMNS}`,
          )
          .get(
            d.status,
            d.decidedBy,
            d.decidedAt ? d.decidedAt.getTime() : null,
            d.decisionNote,
            clock().getTime(),
            orgId,
            id,
            seen ? 1 : 0,
            seen ? seen.updatedAt.getTime() : null,
            seen?.category ?? null,
            seen?.text ?? null,
          );
        if (!r) return null;
        if (entry) db.stmt(auditInsert).run(audit.toRow({ id: newTimeOrderedId(), ...entry }));
        return fromRow(r);
      });
    },
    async edit(orgId, id, fields) {
      const r = db
        .stmt(
          `UPDATE excuses SET category = ?, text = ?, updated_at = ? WHERE org_id = ? AND id = ? AND status = 'pending' RETURNING ${COLUMNS}`,
        )
        .get(fields.category, fields.text, clock().getTime(), orgId, id);
      return r ? fromRow(r) : null;
    },
    async putDocument(orgId, id, info, bytes) {
      const r = db
        .stmt(
          `UPDATE excuses SET document = ?, document_bytes = ?, updated_at = ? WHERE org_id = ? AND id = ? AND status = 'pending' RETURNING ${COLUMNS}`,
        )
        .get(
          JSON.stringify({ fileName: info.fileName, contentType: info.contentType, size: info.size }),
          bytes,
          clock().getTime(),
          orgId,
          id,
        );
      return r ? fromRow(r) : null;
    },
    async getDocument(orgId, id) {
      const r = db
        .stmt<{ document: string | null; document_bytes: Buffer | null }>(
          'SELECT document, document_bytes FROM excuses WHERE org_id = ? AND id = ?',
        )
        .get(orgId, id);
      if (!r?.document || !r.document_bytes) return null;
      return { info: parseDocument(r.document), bytes: r.document_bytes };
    },
  };
}
