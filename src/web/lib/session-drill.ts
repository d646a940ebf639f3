/**
 * Session history drill-down on the reports page: a subject's settled sessions in the range,
 * and for one of them every student's record with the counts they add up to (src/shared/counts.ts),
 * and a record's audit trail: who changed it, when, from what to what and why.
 */
import { countRoster, countsLine } from '../../shared/counts.js';
import type { RosterStatus, SessionView } from '../../shared/events.js';
import { apiJson } from './auth.js';
import { byId, clockTime, errorText, h, reasonText, show } from './dom.js';

interface RosterRow {
  studentId: string;
  name: string;
  studentNumber: string | null;
  status: RosterStatus;
  reason: string | null;
  submittedAt: string | null;
  recordId: string | null;
}

interface AuditRow {
  at: string;
  action: string;
  actorId: string | null;
  /** Named by the server; null for an account since erased. */
  actorName: string | null;
  from: { status?: string } | null;
  to: { status?: string } | null;
  reason: string | null;
}

/** Audit actions as people say them. */
const ACTION_TEXT: Record<string, string> = {
  'checkin.submit': 'Checked in',
  'checkin.retry': 'Checked in again',
  'checkin.accept': 'Accepted by the teacher',
  'checkin.reject': 'Rejected by the teacher',
  'checkin.verify': 'Selfie verified',
  'record.mark': 'Marked by the teacher',
  'record.correct': 'Corrected after closing',
  'close.absent': 'Absent at closing',
  'close.settle': 'Settled at closing',
  'reopen.remove': 'Removed on reopening',
  'reopen.restore': 'Restored on reopening',
};

/** Newest first, at most this many (the range picks older ones). */
const SESSION_ROWS = 50;

export async function loadSessions(subjectId: string, from: string, to: string): Promise<void> {
  const q = new URLSearchParams({ status: 'closing,closed', from, to, limit: String(SESSION_ROWS) });
  const page = await apiJson<{ items: SessionView[]; total: number }>(`api/v1/subjects/${encodeURIComponent(subjectId)}/sessions?${q}`);
  const body = byId('sessions-table').querySelector('tbody')!;
  body.replaceChildren(
    ...page.items.map((s) => {
      const button = h('button', { type: 'button', 'aria-label': `Records of ${s.day} ${clockTime(s.startsAt)}` }, 'Records');
      button.addEventListener(
        'click',
        () => void showSession(s).catch((err: unknown) => (byId('report-error').textContent = errorText(err))),
      );
      return h(
        'tr',
        { 'data-session-id': s.id },
        h('th', { scope: 'row' }, s.day),
        h('td', {}, clockTime(s.startsAt)),
        h('td', {}, s.status),
        h('td', { class: 'no-print' }, button),
      );
    }),
  );
  if (page.items.length === 0) body.append(h('tr', {}, h('td', { colspan: 4 }, 'No closed sessions in the range.')));
  byId('sessions-count').textContent =
    page.total > page.items.length ? `The latest ${page.items.length} of ${page.total}.` : `${page.total} sessions.`;
}

async function showSession(s: SessionView): Promise<void> {
  const { entries } = await apiJson<{ entries: RosterRow[] }>(`api/v1/sessions/${encodeURIComponent(s.id)}/records`);
  byId('session-detail-title').textContent = `${s.subjectCode} on ${s.day} at ${clockTime(s.startsAt)}`;
  byId('session-counts').textContent = countsLine(countRoster(entries));
  byId('session-records')
    .querySelector('tbody')!
    .replaceChildren(
      ...entries.map((e) => {
        const history = h('td', { class: 'no-print' });
        if (e.recordId) {
          const recordId = e.recordId;
          const button = h('button', { type: 'button', 'aria-label': `History of ${e.name}'s record` }, 'History');
          button.addEventListener(
            'click',
            () => void showTrail(recordId, e.name).catch((err: unknown) => (byId('report-error').textContent = errorText(err))),
          );
          history.append(button);
        }
        return h(
          'tr',
          { 'data-status': e.status, ...(e.recordId ? { 'data-record-id': e.recordId } : {}) },
          h('th', { scope: 'row' }, e.name),
          h('td', {}, e.studentNumber ?? ''),
          h('td', {}, e.status),
          h('td', {}, reasonText(e.reason)),
          h('td', {}, clockTime(e.submittedAt)),
          history,
        );
      }),
    );
  show(byId('record-trail'), false);
  show(byId('session-detail'), true);
  byId('session-detail-title').focus();
}

async function showTrail(recordId: string, name: string): Promise<void> {
  const q = new URLSearchParams({ entityType: 'record', entityId: recordId, limit: '100' });
  const { items } = await apiJson<{ items: AuditRow[] }>(`api/v1/reports/audit?${q}`);
  const who = (a: AuditRow) => (a.actorId === null ? 'The server' : (a.actorName ?? 'An erased user'));
  const status = (a: AuditRow) => [a.from?.status, a.to?.status].filter(Boolean).join(' → ');
  byId('record-trail-title').textContent = `History of ${name}'s record`;
  byId('record-trail-table')
    .querySelector('tbody')!
    .replaceChildren(
      ...items.map((a) =>
        h(
          'tr',
          {},
          h('th', { scope: 'row' }, new Date(a.at).toLocaleString()),
          h('td', {}, ACTION_TEXT[a.action] ?? a.action),
          h('td', {}, who(a)),
          h('td', {}, status(a)),
          h('td', {}, a.reason ?? ''),
        ),
      ),
    );
  if (items.length === 0)
    byId('record-trail-table')
      .querySelector('tbody')!
      .append(h('tr', {}, h('td', { colspan: 5 }, 'No changes recorded.')));
  show(byId('record-trail'), true);
  byId('record-trail-title').focus();
}
