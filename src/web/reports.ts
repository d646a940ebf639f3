/**
 * Reports page for teachers and admins, over the reporting API (docs/reports.md): the
 * organisation's dashboard (admins), subjects at risk, a subject's trend and its students at
 * risk, its session history with each session's records, a student's profile per subject,
 * and (admins) every record of the organisation over the range as CSV. Charts are inline SVG with their data tables; the at-risk subjects carry a weekly
 * sparkline each.
 */
import { apiFetch, apiJson } from './lib/auth.js';
import { fetchEverySubject } from './lib/fetch-all.js';
import { barChart, lineChart, settledPercentage, sparkline } from './lib/charts.js';
import { announce, byId, downloadBlob, errorText, h, show } from './lib/dom.js';
import { bindLogout, requireLogin } from './lib/page.js';
import { loadSessions } from './lib/session-drill.js';
import { connect } from './lib/socket.js';
import { rt } from './lib/reports-text.js';
import { initialLanguage, pageLanguage, useLanguage } from './lib/i18n.js';
import {
  addDays,
  seenText,
  type Dashboard,
  type Figures,
  type MonthFigures,
  type StudentSubject,
  type SubjectRisk,
  type SubjectStudent,
  type TrendBucket,
} from './lib/report-types.js';

interface Range {
  from: string;
  to: string;
  threshold: number;
}

interface SubjectItem {
  id: string;
  code: string;
  name: string;
}

function readRange(): Range {
  return {
    from: byId<HTMLInputElement>('range-from').value,
    to: byId<HTMLInputElement>('range-to').value,
    threshold: Number(byId<HTMLInputElement>('range-threshold').value),
  };
}

function rangeQuery(r: Range, withThreshold = false): string {
  const q = new URLSearchParams({ from: r.from, to: r.to });
  if (withThreshold) q.set('threshold', String(r.threshold));
  return q.toString();
}

function cells(...values: (string | number)[]): HTMLTableCellElement[] {
  return values.map((v) => h('td', {}, String(v)));
}

/** Sparklines drawn per refresh at most: each is one trend request. */
const MAX_SPARKLINES = 20;

async function loadDashboard(r: Range): Promise<void> {
  const [d, months] = await Promise.all([
    apiJson<Dashboard>('api/v1/reports/dashboard'),
    apiJson<{ items: MonthFigures[] }>(`api/v1/reports/months?${rangeQuery(r)}`),
  ]);
  byId('months-chart').replaceChildren(
    barChart(
      {
        title: rt('reports.monthsTitle', { from: r.from, to: r.to }),
        valueLabel: rt('reports.attendance'),
        labelHeader: rt('reports.month'),
        threshold: r.threshold,
      },
      months.items.map((m) => ({ label: m.from.slice(0, 7), value: settledPercentage(m) })),
    ),
  );
  const figure = (term: string, value: string) => [h('dt', {}, term), h('dd', {}, value)];
  // The API says 0 % when nobody was expected (docs/reports.md); a new school's first week is not 0 % attendance.
  const week = (f: Figures) => {
    const value = settledPercentage(f);
    return value === null ? rt('reports.noSettled') : rt('reports.percent', { value });
  };
  byId('dashboard-figures').replaceChildren(
    ...figure(rt('reports.today'), d.today),
    ...figure(rt('reports.sessionsToday'), String(d.sessionsToday.total)),
    ...figure(rt('reports.openNow'), String(d.live.openSessions)),
    ...figure(rt('reports.thisWeek', { from: d.thisWeek.from, to: d.thisWeek.to }), week(d.thisWeek)),
    ...figure(rt('reports.lastWeek', { from: d.lastWeek.from, to: d.lastWeek.to }), week(d.lastWeek)),
  );
  byId('dashboard-chart').replaceChildren(
    barChart({ title: rt('reports.weeksTitle'), valueLabel: rt('reports.attendance'), labelHeader: rt('reports.week') }, [
      { label: rt('reports.lastWeekLabel'), value: settledPercentage(d.lastWeek) },
      { label: rt('reports.thisWeekLabel'), value: settledPercentage(d.thisWeek) },
    ]),
  );
  show(byId('dashboard'), true);
}

async function loadRiskSubjects(r: Range): Promise<void> {
  const { items } = await apiJson<{ items: SubjectRisk[] }>(`api/v1/reports/at-risk/subjects?${rangeQuery(r, true)}`);
  const body = byId('risk-subjects-table').querySelector('tbody')!;
  const trendCells = items.map(() => h('td', { class: 'sparkline-cell' }));
  body.replaceChildren(
    ...items.map((s, i) =>
      h(
        'tr',
        { 'data-subject-id': s.subjectId },
        h('th', { scope: 'row' }, rt('reports.subjectName', { code: s.subjectCode, name: s.subjectName })),
        ...cells(s.percentage, s.present, s.late, s.absent, s.excused, s.total),
        trendCells[i]!,
      ),
    ),
  );
  if (items.length === 0) body.append(h('tr', {}, h('td', { colspan: 8 }, rt('reports.noSubjectUnder', { threshold: r.threshold }))));
  // The weekly line of each listed subject: whether it is slipping or recovering.
  await Promise.all(
    items.slice(0, MAX_SPARKLINES).map(async (s, i) => {
      const trend = await apiJson<{ items: TrendBucket[] }>(
        `api/v1/reports/subjects/${encodeURIComponent(s.subjectId)}/trend?${rangeQuery(r)}&bucket=week`,
      );
      trendCells[i]!.replaceChildren(
        sparkline(
          rt('reports.byWeek', { code: s.subjectCode }),
          trend.items.map((b) => ({ label: b.from, value: settledPercentage(b) })),
          r.threshold,
        ),
      );
    }),
  );
}

function studentRows(items: SubjectStudent[], empty: string): HTMLTableRowElement[] {
  if (items.length === 0) return [h('tr', {}, h('td', { colspan: 6 }, empty))];
  return items.map((s) => {
    const button = h('button', { type: 'button', 'aria-label': rt('reports.profileLabel', { name: s.name }) }, rt('reports.profile'));
    button.addEventListener('click', () => void showProfile(s.studentId, s.name));
    return h(
      'tr',
      { 'data-student-id': s.studentId },
      h('th', { scope: 'row' }, s.enrolled ? s.name : rt('reports.unenrolled', { name: s.name })),
      ...cells(s.studentNumber ?? '', s.percentage, s.absent, seenText(s.lastSeenAt, rt('reports.never'))),
      h('td', { class: 'no-print' }, button),
    );
  });
}

async function loadSubject(r: Range): Promise<void> {
  const select = byId<HTMLSelectElement>('subject-select');
  const id = select.value;
  if (!id) return;
  const label = select.selectedOptions[0]?.textContent ?? '';
  const bucket = byId<HTMLSelectElement>('bucket-select').value as 'week' | 'day' | 'month';
  const [trend, risk, all] = await Promise.all([
    apiJson<{ items: TrendBucket[] }>(`api/v1/reports/subjects/${encodeURIComponent(id)}/trend?${rangeQuery(r)}&bucket=${bucket}`),
    apiJson<{ items: SubjectStudent[] }>(`api/v1/reports/subjects/${encodeURIComponent(id)}/at-risk?${rangeQuery(r, true)}`),
    apiJson<{ items: SubjectStudent[] }>(`api/v1/reports/subjects/${encodeURIComponent(id)}/students?${rangeQuery(r)}`),
  ]);
  byId('trend-chart').replaceChildren(
    lineChart(
      {
        title: rt(`reports.trendTitle.${bucket}`, { subject: label }),
        valueLabel: rt('reports.attendance'),
        labelHeader: bucket === 'week' ? rt('reports.weekOf') : bucket === 'month' ? rt('reports.monthOf') : rt('reports.day'),
        threshold: r.threshold,
      },
      trend.items.map((b) => ({ label: b.from, value: settledPercentage(b) })),
    ),
  );
  byId('risk-students-table')
    .querySelector('tbody')!
    .replaceChildren(...studentRows(risk.items, rt('reports.nobodyUnder', { threshold: r.threshold })));
  byId('students-table')
    .querySelector('tbody')!
    .replaceChildren(...studentRows(all.items, rt('reports.noStudents')));
  show(byId('session-detail'), false);
  await loadSessions(id, r.from, r.to);
}

async function showProfile(studentId: string, name: string): Promise<void> {
  const r = readRange();
  const { items } = await apiJson<{ items: StudentSubject[] }>(`api/v1/reports/students/${encodeURIComponent(studentId)}?${rangeQuery(r)}`);
  const title = byId('profile-title');
  delete title.dataset['i18n'];
  title.textContent = rt('reports.profileTitle', { name, from: r.from, to: r.to });
  byId('profile-chart').replaceChildren(
    barChart(
      {
        title: rt('reports.profileChart', { name }),
        valueLabel: rt('reports.attendance'),
        labelHeader: rt('reports.subject'),
        threshold: r.threshold,
      },
      items.map((s) => ({ label: s.subjectCode, value: settledPercentage(s) })),
    ),
  );
  byId('profile-table')
    .querySelector('tbody')!
    .replaceChildren(
      ...items.map((s) =>
        h(
          'tr',
          { 'data-subject-id': s.subjectId },
          h('th', { scope: 'row' }, rt('reports.subjectName', { code: s.subjectCode, name: s.subjectName })),
          ...cells(s.percentage, s.present, s.late, s.absent, s.excused, s.total, seenText(s.lastSeenAt, rt('reports.never'))),
        ),
      ),
    );
  show(byId('profile'), true);
  byId('profile-title').focus();
}

/** GET /attendance.csv over the chosen days: every record of the organisation (admins). */
async function exportOrganisation(button: HTMLButtonElement): Promise<void> {
  const r = readRange();
  const name = `attendance-${r.from}-${r.to}.csv`;
  byId('report-error').textContent = '';
  button.disabled = true;
  byId('report-status').textContent = rt('reports.preparing', { file: name });
  try {
    // For the admin to open in a spreadsheet: headings and statuses in the page's language.
    const res = await apiFetch(`api/v1/attendance.csv?${rangeQuery(r)}&lang=${pageLanguage()}`);
    downloadBlob(name, await res.blob());
    announce(byId('report-status'), rt('reports.downloaded', { file: name }));
  } catch (err) {
    byId('report-status').textContent = '';
    byId('report-error').textContent = errorText(err);
  } finally {
    button.disabled = false;
  }
}

async function refresh(isAdmin: boolean): Promise<void> {
  const r = readRange();
  const status = byId('report-status');
  byId('report-error').textContent = '';
  status.textContent = rt('reports.loading');
  try {
    await Promise.all([isAdmin ? loadDashboard(r) : Promise.resolve(), loadRiskSubjects(r), loadSubject(r)]);
    status.textContent = rt('reports.figures', { from: r.from, to: r.to });
  } catch (err) {
    status.textContent = '';
    byId('report-error').textContent = errorText(err);
  }
}

/**
 * Fills the subject list with `wanted` chosen, else the reader's choice kept. A list that now
 * chooses another (a first subject given) tells the subject's report to follow.
 */
async function loadSubjects(wanted: string | null = null): Promise<void> {
  const subjects = await fetchEverySubject<SubjectItem>();
  const select = byId<HTMLSelectElement>('subject-select');
  const chosen = wanted ?? select.value;
  const before = select.value;
  select.replaceChildren(...subjects.map((s) => h('option', { value: s.id }, rt('reports.subjectName', { code: s.code, name: s.name }))));
  if (subjects.some((s) => s.id === chosen)) select.value = chosen;
  if (wanted === null && select.value !== before) select.dispatchEvent(new Event('change'));
}

/**
 * The figures come over HTTP; the socket only tells of a subject given to the reader while the
 * page is open. Nothing is replayed after a drop, so each reconnect lists the subjects again.
 * The page shows no connection state: its reports do not depend on it.
 */
function listenForSubjects(): void {
  const relist = () => void loadSubjects().catch((err: unknown) => (byId('report-error').textContent = errorText(err)));
  let connectedBefore = false;
  const socket = connect({
    onState: () => undefined,
    onLoggedOut: () => location.reload(),
    onSync: () => {
      if (connectedBefore) relist();
      connectedBefore = true;
    },
  });
  socket.on('subject:assigned', relist);
}

async function main(): Promise<void> {
  // Before sign-in the browser's language (or this browser's last signed-in one), then the user's own, else the school's.
  const first = initialLanguage();
  if (first !== 'en') await useLanguage(first);
  const auth = await requireLogin(['teacher', 'admin'], { localised: true });
  show(byId('signed-in'), true);
  bindLogout();
  const isAdmin = auth.user.role === 'admin';
  const today = new Intl.DateTimeFormat('en-CA', { year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date());
  byId<HTMLInputElement>('range-to').value = today;
  // The organisation's own at-risk threshold until the reader picks another.
  const org = await apiJson<{ settings: { riskThreshold: number } }>('api/v1/organisation');
  byId<HTMLInputElement>('range-threshold').value = String(org.settings.riskThreshold);
  byId<HTMLInputElement>('range-from').value = addDays(today, -90);

  await loadSubjects(new URLSearchParams(location.search).get('subject'));
  const select = byId<HTMLSelectElement>('subject-select');

  const reloadSubject = () => {
    byId('report-error').textContent = '';
    loadSubject(readRange()).catch((err: unknown) => (byId('report-error').textContent = errorText(err)));
  };
  select.addEventListener('change', reloadSubject);
  byId('bucket-select').addEventListener('change', reloadSubject);
  byId<HTMLFormElement>('range-form').addEventListener('submit', (event) => {
    event.preventDefault();
    void refresh(isAdmin);
  });
  byId('print').addEventListener('click', () => window.print());
  const exportButton = byId<HTMLButtonElement>('export-csv');
  show(exportButton, isAdmin);
  exportButton.addEventListener('click', () => void exportOrganisation(exportButton));
  // A printed report shows every data table (browsers without ::details-content keep them closed).
  window.addEventListener('beforeprint', () => document.querySelectorAll('details').forEach((d) => (d.open = true)));
  await refresh(isAdmin);
  listenForSubjects();
  document.body.dataset['ready'] = 'true';
}

void main();
