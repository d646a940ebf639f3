/**
 * The chosen subject's latest closed sessions on the teacher console, each with a button that
 * shows it: a record is corrected after the class (a student whose phone died, a check-in still
 * pending at the close) on the console, which shows a closed session's roster with its correction
 * form. Without this list only that session's own address led back to it once the page was left.
 */
import type { SessionView } from '../../shared/events.js';
import { apiJson } from './auth.js';
import { byId, clockTime, h } from './dom.js';
import { t } from './pages-text.js';
import { st } from './staff-text.js';
import { tt } from './teacher-text.js';

/** Newest first; older ones are on the reports page's session history. */
export const CLOSED_SHOWN = 5;

/** Lists `subjectId`'s latest closed sessions; `open` shows the one chosen. */
export async function listClosed(subjectId: string, open: (sessionId: string) => void): Promise<void> {
  const list = byId('closed-list');
  if (!subjectId) {
    list.replaceChildren();
    return;
  }
  const q = new URLSearchParams({ status: 'closing,closed', limit: String(CLOSED_SHOWN) });
  const page = await apiJson<{ items: SessionView[] }>(`api/v1/subjects/${encodeURIComponent(subjectId)}/sessions?${q}`);
  // The answer of a subject chosen before another: the list follows the select, not the slowest answer.
  if ((byId<HTMLSelectElement>('subject-select').value || '') !== subjectId) return;
  list.replaceChildren(
    ...page.items.map((s) => {
      const name = st('staff.sessionName', { code: s.subjectCode, name: s.subjectName });
      const line = tt('teacher.closedLine', { day: s.day, time: clockTime(s.startsAt), status: t(`session.${s.status}`) });
      const button = h(
        'button',
        { type: 'button', 'aria-label': tt('teacher.correctLabel', { session: name, day: s.day }) },
        tt('teacher.correct'),
      );
      button.addEventListener('click', () => open(s.id));
      return h('li', {}, `${line} `, button);
    }),
  );
  if (page.items.length === 0) list.append(h('li', {}, tt('teacher.noClosed')));
}
