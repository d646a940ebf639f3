/**
 * Session history drill-down on the reports page: a subject's settled sessions in the range,
 * and for one of them every student's record with the counts they add up to (src/shared/counts.ts).
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
}

/** Newest first, at most this many (the range picks older ones). */
const SESSION_ROWS = 50;

export async function loadSessions(subjectId: string, from: string, to: string): Promise<void> {
  const q = new URLSearchParams({ status: 'closing,closed', from, to, limit: String(SESSION_ROWS) });
  const page = await apiJson<{ items: SessionView[]; total: number }>(`/api/v1/subjects/${encodeURIComponent(subjectId)}/sessions?${q}`);
  const body = byId('sessions-table').querySelector('tbody')!;
  body.replaceChildren(
    ...page.items.map((s) => {
      const button = h('button', { type: 'button', 'aria-label': `Records of ${s.day} ${clockTime(s.startsAt)}` }, 'Records');
      button.addEventListener('click', () => void showSession(s).catch((err: unknown) => (byId('report-error').textContent = errorText(err))));
      return h('tr', { 'data-session-id': s.id }, h('th', { scope: 'row' }, s.day), h('td', {}, clockTime(s.startsAt)), h('td', {}, s.status), h('td', { class: 'no-print' }, button));
    }),
  );
  if (page.items.length === 0) body.append(h('tr', {}, h('td', { colspan: 4 }, 'No closed sessions in the range.')));
  byId('sessions-count').textContent = page.total > page.items.length ? `The latest ${page.items.length} of ${page.total}.` : `${page.total} sessions.`;
}

async function showSession(s: SessionView): Promise<void> {
  const { entries } = await apiJson<{ entries: RosterRow[] }>(`/api/v1/sessions/${encodeURIComponent(s.id)}/records`);
  byId('session-detail-title').textContent = `${s.subjectCode} on ${s.day} at ${clockTime(s.startsAt)}`;
  byId('session-counts').textContent = countsLine(countRoster(entries));
  byId('session-records').querySelector('tbody')!.replaceChildren(
    ...entries.map((e) =>
      h('tr', { 'data-status': e.status }, h('th', { scope: 'row' }, e.name), h('td', {}, e.studentNumber ?? ''), h('td', {}, e.status), h('td', {}, reasonText(e.reason)), h('td', {}, clockTime(e.submittedAt))),
    ),
  );
  show(byId('session-detail'), true);
  byId('session-detail-title').focus();
}
