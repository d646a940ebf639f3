/**
 * The student's "My attendance" section: their percentage per subject
 * (GET /reports/students/{own id}) and their latest sessions (GET /me/attendance).
 */
import { apiJson } from './auth.js';
import { barChart, settledPercentage } from './charts.js';
import { byId, errorText, h } from './dom.js';
import type { StudentSubject } from './report-types.js';

import { pt } from './student-text.js';
import { reasonText, t } from './pages-text.js';

interface HistoryEntry {
  sessionId: string;
  subjectCode: string;
  subjectName: string;
  day: string;
  status: string;
  /** `cancelled`: the session was voided and counts in no figure. */
  sessionStatus: string | null;
  reason: string | null;
}

const RECORD_STATUSES = ['present', 'late', 'pending', 'rejected', 'excused', 'absent'] as const;
const statusText = (status: string): string => {
  const known = RECORD_STATUSES.find((s) => s === status);
  return known ? t(`record.${known}`) : status;
};

/** How many past sessions the list shows. */
const RECENT = 20;

export async function loadMyAttendance(studentId: string): Promise<void> {
  const error = byId('my-error');
  error.textContent = '';
  try {
    const [figures, history] = await Promise.all([
      apiJson<{ items: StudentSubject[] }>(`api/v1/reports/students/${encodeURIComponent(studentId)}`),
      apiJson<{ items: HistoryEntry[]; total: number }>(`api/v1/me/attendance?limit=${RECENT}`),
    ]);
    const rows = figures.items.map((s) =>
      h(
        'tr',
        { 'data-subject-id': s.subjectId },
        h('th', { scope: 'row' }, s.subjectCode, h('br'), h('small', {}, s.subjectName)),
        h('td', { class: 'my-percentage' }, pt('my.percentage', { value: s.percentage })),
        h('td', {}, String(s.absent)),
        h('td', {}, String(s.total)),
      ),
    );
    byId('my-subjects')
      .querySelector('tbody')!
      .replaceChildren(...(rows.length > 0 ? rows : [h('tr', {}, h('td', { colspan: 4 }, pt('my.none')))]));
    byId('my-chart').replaceChildren(
      ...(figures.items.length > 0
        ? [
            barChart(
              { title: pt('my.chartTitle'), valueLabel: pt('my.chartValue'), labelHeader: pt('my.subject'), threshold: 75 },
              figures.items.map((s) => ({ label: s.subjectCode, value: settledPercentage(s) })),
            ),
          ]
        : []),
    );
    byId('my-history').replaceChildren(
      ...history.items.map((e) =>
        h(
          'li',
          { 'data-status': e.status, 'data-session-status': e.sessionStatus ?? '' },
          h('span', {}, `${e.day} · ${e.subjectCode}`),
          ' ',
          h('strong', {}, statusText(e.status)),
          e.sessionStatus === 'cancelled'
            ? h('small', { class: 'my-cancelled' }, ` (${pt('my.cancelled')})`)
            : e.reason && e.status !== 'present'
              ? h('small', {}, ` (${reasonText(e.reason)})`)
              : null,
        ),
      ),
    );
    if (history.items.length === 0) byId('my-history').append(h('li', {}, pt('my.noSessions')));
  } catch (err) {
    error.textContent = errorText(err);
  }
}
