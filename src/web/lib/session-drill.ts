/**
 * Session history drill-down on the reports page: a subject's settled sessions in the range,
 * and for one of them every student's record with the counts they add up to (src/shared/counts.ts),
 * and a record's audit trail: who changed it, when, from what to what and why.
 */
import { countRoster } from '../../shared/counts.js';
import type { RosterStatus, SessionView } from '../../shared/events.js';
import { apiJson } from './auth.js';
import { byId, clockTime, errorText, exactDateTime, h, show } from './dom.js';

import { isWordedAction, rt } from './reports-text.js';
import { countsLine, statusLabel } from './staff-text.js';
import { reasonText, t } from './pages-text.js';

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

const STATUSES: readonly string[] = ['present', 'late', 'pending', 'rejected', 'excused', 'absent', 'not-yet'];
const isStatus = (s: string): s is RosterStatus => STATUSES.includes(s);

/** Newest first, at most this many (the range picks older ones). */
const SESSION_ROWS = 50;

export async function loadSessions(subjectId: string, from: string, to: string): Promise<void> {
  const q = new URLSearchParams({ status: 'closing,closed', from, to, limit: String(SESSION_ROWS) });
  const page = await apiJson<{ items: SessionView[]; total: number }>(`api/v1/subjects/${encodeURIComponent(subjectId)}/sessions?${q}`);
  const body = byId('sessions-table').querySelector('tbody')!;
  body.replaceChildren(
    ...page.items.map((s) => {
      const button = h(
        'button',
        { type: 'button', 'aria-label': rt('reports.recordsLabel', { day: s.day, time: clockTime(s.startsAt) }) },
        rt('reports.records'),
      );
      button.addEventListener(
        'click',
        () => void showSession(s).catch((err: unknown) => (byId('report-error').textContent = errorText(err))),
      );
      return h(
        'tr',
        { 'data-session-id': s.id },
        h('th', { scope: 'row' }, s.day),
        h('td', {}, clockTime(s.startsAt)),
        h('td', {}, t(`session.${s.status}`)),
        h('td', { class: 'no-print' }, button),
      );
    }),
  );
  if (page.items.length === 0) body.append(h('tr', {}, h('td', { colspan: 4 }, rt('reports.noSessions'))));
  byId('sessions-count').textContent =
    page.total > page.items.length
      ? rt('reports.latest', { shown: page.items.length, total: page.total })
      : rt('reports.sessionCount', { count: page.total });
}

async function showSession(s: SessionView): Promise<void> {
  const { entries } = await apiJson<{ entries: RosterRow[] }>(`api/v1/sessions/${encodeURIComponent(s.id)}/records`);
  byId('session-detail-title').textContent = rt('reports.sessionTitle', { code: s.subjectCode, day: s.day, time: clockTime(s.startsAt) });
  byId('session-counts').textContent = countsLine(countRoster(entries));
  byId('session-records')
    .querySelector('tbody')!
    .replaceChildren(
      ...entries.map((e) => {
        const history = h('td', { class: 'no-print' });
        if (e.recordId) {
          const recordId = e.recordId;
          const button = h('button', { type: 'button', 'aria-label': rt('reports.historyLabel', { name: e.name }) }, rt('reports.history'));
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
          h('td', {}, statusLabel(e.status)),
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
  const who = (a: AuditRow) => (a.actorId === null ? rt('reports.theServer') : (a.actorName ?? rt('reports.erasedUser')));
  const word = (s: string | undefined) => (s && isStatus(s) ? statusLabel(s) : s);
  const status = (a: AuditRow) => [word(a.from?.status), word(a.to?.status)].filter(Boolean).join(' → ');
  byId('record-trail-title').textContent = rt('reports.historyTitle', { name });
  byId('record-trail-table')
    .querySelector('tbody')!
    .replaceChildren(
      ...items.map((a) =>
        h(
          'tr',
          {},
          h('th', { scope: 'row' }, exactDateTime(a.at)),
          h('td', {}, isWordedAction(a.action) ? rt(`reports.action.${a.action}`) : a.action),
          h('td', {}, who(a)),
          h('td', {}, status(a)),
          h('td', {}, a.reason ?? ''),
        ),
      ),
    );
  if (items.length === 0)
    byId('record-trail-table')
      .querySelector('tbody')!
      .append(h('tr', {}, h('td', { colspan: 5 }, rt('reports.noChanges'))));
  show(byId('record-trail'), true);
  byId('record-trail-title').focus();
}
