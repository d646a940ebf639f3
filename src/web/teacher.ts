/**
 * Teacher console: open a session with its policy, watch the roster live, accept or reject
 * pending check-ins, mark by hand, close, correct after closing, download the CSV.
 */
import {
  MARK_STATUSES,
  type MarkStatus,
  type PolicyInput,
  type RosterEntry,
  type SessionOpenInput,
  type SessionView,
} from '../shared/events.js';
import { apiFetch } from './lib/auth.js';
import { fetchAll } from './lib/fetch-all.js';
import { announce, byId, clockTime, errorText, h, queryParam, show } from './lib/dom.js';
import { bindLanguageMenu, bindLogout, requireLogin, showConnection } from './lib/page.js';
import { RosterFeed } from './lib/roster.js';
import { KeyedRows } from './lib/keyed-rows.js';
import { countsLine, st, statusLabel } from './lib/staff-text.js';
import { tt } from './lib/teacher-text.js';
import { initialLanguage, pageLanguage, useLanguage } from './lib/i18n.js';

import { ErrorCodes } from '../shared/errors.js';
import { currentContext, joinLinkProblem, showProblem } from './lib/secure-context.js';
import { command, CommandError, connect, type AppSocket } from './lib/socket.js';
import { bindTimetablePanel } from './lib/timetable-panel.js';
import { sendConfirmingClashes } from './lib/session-clashes.js';
import { clearRoomFix, offerRoomFix } from './lib/missing-room.js';
import { listClosed } from './lib/closed-sessions.js';
import { bindStaffExcuses } from './lib/staff-excuses.js';
import { roomText } from './lib/session-room.js';
import { POLICY_CHECKS, POLICY_PRESETS, PRESET_CHECKS, presetOf, type PolicyCheck, type PolicyPreset } from '../shared/policy-presets.js';
import { reasonText, t } from './lib/pages-text.js';

interface SubjectItem {
  id: string;
  code: string;
  name: string;
}

let current: AppSocket | null = null;
// Gaps and resync notices fetch a fresh snapshot by themselves (docs/protocol.md §8).
const feed = new RosterFeed({
  fetchSnapshot: (sessionId) => (current ? command(current, 'session:watch', { sessionId }) : Promise.reject(new Error('not connected'))),
  onSnapshot: (snapshot) => {
    renderSession(snapshot.session);
    if (current) renderRoster(current);
  },
  // One redraw of the changed rows and one announcement per roster:updates message.
  onEntries: (entries) => {
    if (!current) return;
    rosterRows(current).apply(entries);
    renderCounts();
    const only = entries.length === 1 ? entries[0]! : null;
    announce(
      byId('live'),
      only
        ? tt('teacher.markLabel', { status: statusLabel(only.status), name: only.name })
        : tt('teacher.changes', { count: entries.length, counts: countsLine(roster.counts()) }),
    );
  },
  onError: (err) => (byId('session-error').textContent = errorText(err)),
});
const roster = feed.roster;
let watching: string | null = queryParam('session');

function flagsCell(entry: RosterEntry): HTMLTableCellElement {
  const flags = [...new Set([...(entry.reason && entry.status !== 'present' ? [entry.reason] : []), ...entry.flags])];
  const items = flags.map((f) => h('li', { title: f }, reasonText(f)));
  if (entry.verification?.band) items.push(h('li', {}, tt('teacher.selfieBand', { band: entry.verification.band })));
  if (entry.note) items.push(h('li', {}, tt('teacher.noteLine', { note: entry.note })));
  if (entry.correctionReason)
    items.push(h('li', { class: 'correction' }, tt('teacher.correctionLine', { reason: entry.correctionReason })));
  return h('td', {}, items.length > 0 ? h('ul', { class: 'flags' }, ...items) : '');
}

/** The last hand mark, so one tap can take it back (the record's status before, and its version after). */
let lastChange: { studentId: string; name: string; before: RosterEntry['status']; version: number } | null = null;

/** Marks one student by hand; remembers the change for undo. The reason is required after closing. */
async function mark(
  socket: AppSocket,
  studentId: string,
  status: MarkStatus,
  extra: { note?: string; reason?: string } = {},
): Promise<RosterEntry> {
  const sessionId = roster.session?.id;
  if (!sessionId) throw new Error(tt('teacher.noSession'));
  const held = roster.get(studentId);
  const entry = await command(socket, 'checkin:mark', {
    sessionId,
    studentId,
    status,
    ...extra,
    expectedVersion: held?.recordVersion ?? 0,
  });
  lastChange = { studentId, name: entry.name, before: held?.status ?? 'not-yet', version: entry.recordVersion };
  const applied = roster.put(entry);
  if (applied) renderRow(socket, applied);
  renderUndo();
  return entry;
}

function renderUndo(): void {
  const button = byId<HTMLButtonElement>('undo-mark');
  const undoable = lastChange !== null && (MARK_STATUSES as readonly string[]).includes(lastChange.before);
  button.disabled = !undoable;
  // A record that had no hand-markable status before (not yet, pending, rejected) cannot be put back by a mark.
  delete button.dataset['i18n'];
  button.textContent =
    lastChange && undoable ? tt('teacher.undoTo', { name: lastChange.name, status: statusLabel(lastChange.before) }) : tt('teacher.undo');
}

/** One tap per status: open sessions only (a correction after closing needs a reason, so the form). */
function statusGrid(socket: AppSocket, entry: RosterEntry): HTMLElement {
  const grid = h('div', { class: 'status-grid', role: 'group', 'aria-label': tt('teacher.markGroup', { name: entry.name }) });
  for (const status of MARK_STATUSES) {
    const button = h(
      'button',
      {
        type: 'button',
        class: `mark-${status}`,
        'aria-pressed': String(entry.status === status),
        'aria-label': tt('teacher.markLabel', { status: statusLabel(status), name: entry.name }),
      },
      statusLabel(status),
    );
    button.addEventListener('click', () => {
      button.disabled = true;
      mark(socket, entry.studentId, status).then(
        () => (byId('session-error').textContent = ''),
        (err: unknown) => {
          button.disabled = false;
          byId('session-error').textContent = errorText(err);
        },
      );
    });
    grid.append(button);
  }
  return grid;
}

function actionsCell(socket: AppSocket, entry: RosterEntry): HTMLTableCellElement {
  const cell = h('td', { class: 'actions' });
  const session = roster.session;
  if (!session || session.status !== 'open') return cell;
  if (entry.status !== 'pending') {
    cell.append(statusGrid(socket, entry));
    return cell;
  }
  const buttons = h('div', { class: 'row' });
  cell.append(buttons);
  const sessionId = session.id;
  for (const decision of ['accept', 'reject'] as const) {
    const button = h(
      'button',
      { type: 'button', class: decision, 'aria-label': tt(`teacher.${decision}Label`, { name: entry.name }) },
      tt(`teacher.${decision}`),
    );
    button.addEventListener('click', () => {
      button.disabled = true;
      command(socket, 'checkin:decide', { sessionId, studentId: entry.studentId, decision, expectedVersion: entry.recordVersion })
        .then((updated) => {
          const applied = roster.put(updated);
          if (applied) renderRow(socket, applied);
        })
        .catch((err: unknown) => {
          button.disabled = false;
          byId('session-error').textContent = errorText(err);
        });
    });
    buttons.append(button);
  }
  return cell;
}

function row(socket: AppSocket, entry: RosterEntry): HTMLTableRowElement {
  const where = [
    entry.distanceM !== null ? tt('teacher.distance', { metres: Math.round(entry.distanceM) }) : '',
    entry.accuracyM !== null ? tt('teacher.accuracy', { metres: Math.round(entry.accuracyM) }) : '',
  ]
    .filter(Boolean)
    .join(', ');
  const pick = h('input', {
    type: 'checkbox',
    class: 'pick',
    value: entry.studentId,
    'aria-label': tt('teacher.selectLabel', { name: entry.name }),
    checked: picked.has(entry.studentId),
  });
  pick.addEventListener('change', () => (pick.checked ? picked.add(entry.studentId) : picked.delete(entry.studentId)));
  const tr = h(
    'tr',
    { 'data-student-id': entry.studentId, 'data-status': entry.status },
    h('td', { class: 'pick-cell' }, pick),
    h('th', { scope: 'row' }, entry.name, entry.studentNumber ? h('span', { class: 'muted' }, ` ${entry.studentNumber}`) : null),
    h('td', { class: `status status-${entry.status}` }, statusLabel(entry.status)),
    flagsCell(entry),
    h('td', {}, where),
    h('td', {}, clockTime(entry.submittedAt)),
    actionsCell(socket, entry),
  );
  tr.hidden = !shownByFilter(entry);
  return tr;
}

/** Students ticked for a bulk mark (kept across re-renders). */
const picked = new Set<string>();

function shownByFilter(entry: RosterEntry): boolean {
  const filter = byId<HTMLSelectElement>('roster-filter').value;
  return filter === 'all' || entry.status === filter;
}

function renderCounts(): void {
  const c = roster.counts();
  byId('counts').textContent = countsLine(c);
}

/** The roster table's rows, each redrawn only when its student changes. */
let rows: KeyedRows<RosterEntry> | null = null;
function rosterRows(socket: AppSocket): KeyedRows<RosterEntry> {
  rows ??= new KeyedRows(byId('roster-body'), (entry) => row(socket, entry));
  return rows;
}

function renderRow(socket: AppSocket, entry: RosterEntry): void {
  rosterRows(socket).apply([entry]);
  renderCounts();
}

/** A session as the console names it: 'CHEM1 · Chemistry'. */
const sessionName = (s: SessionView): string => st('staff.sessionName', { code: s.subjectCode, name: s.subjectName });

/** The classroom screen's address; privacy mode (names of present students only) unless unticked. */
function classroomHref(sessionId: string): string {
  const privacy = byId<HTMLInputElement>('screen-privacy').checked;
  return `classroom.html?session=${encodeURIComponent(sessionId)}${privacy ? '' : '&privacy=off'}`;
}

function renderSession(session: SessionView): void {
  byId('session-title').textContent = sessionName(session);
  // A large class's close can answer before its absents are all written (protocol §5.4).
  const status = session.status === 'closing' ? tt('teacher.closingNote') : t(`session.${session.status}`);
  byId('session-info').textContent = tt('teacher.sessionInfo', {
    status,
    start: clockTime(session.startsAt),
    late: clockTime(session.lateAfter),
    closes: clockTime(session.closesAt),
  });
  byId('session-room').textContent = roomText(session.room ?? null);
  byId<HTMLAnchorElement>('classroom-link').href = classroomHref(session.id);
  const closed = session.status === 'closed';
  const live = session.status === 'open' || session.status === 'scheduled';
  byId<HTMLButtonElement>('close-session').disabled = !live;
  show(byId('reopen-session'), closed);
  byId<HTMLButtonElement>('cancel-session').disabled = session.status === 'cancelled' || session.status === 'closing';
  show(byId('extend-form'), live);
  const legend = byId('mark-legend');
  delete legend.dataset['i18n'];
  legend.textContent = closed ? tt('teacher.correctRecord') : tt('teacher.markByHand');
  byId<HTMLInputElement>('mark-reason').required = closed;
  show(byId('session-section'), true);
}

function renderRoster(socket: AppSocket): void {
  const entries = roster.list();
  rosterRows(socket).replaceAll(entries);
  const select = byId<HTMLSelectElement>('mark-student');
  // The choice survives saves and live updates, so marking several students does not restart at the top.
  const chosen = select.value;
  select.replaceChildren(...entries.map((e) => h('option', { value: e.studentId, selected: e.studentId === chosen }, e.name)));
  renderCounts();
}

async function watch(socket: AppSocket, sessionId: string): Promise<void> {
  if (watching && watching !== sessionId) await command(socket, 'session:unwatch', { sessionId: watching }).catch(() => null);
  watching = sessionId;
  history.replaceState(null, '', `?session=${encodeURIComponent(sessionId)}`);
  await feed.watch(sessionId);
}

async function listActive(socket: AppSocket): Promise<SessionView[]> {
  const sessions = await command(socket, 'session:list-active', {});
  byId('active-list').replaceChildren(
    ...sessions.map((s) => {
      const button = h(
        'button',
        { type: 'button', 'aria-label': tt('teacher.watchLabel', { session: sessionName(s) }) },
        tt('teacher.watch'),
      );
      button.addEventListener(
        'click',
        () => void watch(socket, s.id).catch((err: unknown) => (byId('open-error').textContent = errorText(err))),
      );
      const line = tt('teacher.activeLine', { session: sessionName(s), status: t(`session.${s.status}`), time: clockTime(s.startsAt) });
      return h('li', {}, `${line} `, button);
    }),
  );
  return sessions;
}

/** The chosen subject's closed sessions listed again, each one shown (with its correction form) on a tap. */
function refreshClosed(socket: AppSocket): void {
  const failed = (err: unknown) => (byId('open-error').textContent = errorText(err));
  listClosed(byId<HTMLSelectElement>('subject-select').value, (id) => {
    void watch(socket, id)
      .then(() => byId('session-title').focus())
      .catch(failed);
  }).catch(failed);
}

function isoFrom(form: FormData, name: string): string | undefined {
  const value = String(form.get(name) ?? '');
  return value ? new Date(value).toISOString() : undefined;
}

/** The preset picker sets the four check boxes; ticking a box shows the preset they now make. */
function bindPresetPicker(form: HTMLFormElement): void {
  const picker = byId<HTMLSelectElement>('policy-preset');
  picker.replaceChildren(
    ...POLICY_PRESETS.map((p) => h('option', { value: p }, tt(`preset.${p}`))),
    h('option', { value: 'custom' }, tt('preset.custom')),
  );
  const box = (name: PolicyCheck) => form.querySelector<HTMLInputElement>(`input[name="${name}"]`)!;
  const sync = () => {
    const checks = {
      geofence: box('geofence').checked,
      network: box('network').checked,
      rotatingCode: box('rotatingCode').checked,
      selfie: box('selfie').checked,
    };
    picker.value = presetOf(checks);
  };
  picker.addEventListener('change', () => {
    if (picker.value === 'custom') return;
    const checks = PRESET_CHECKS[picker.value as PolicyPreset];
    for (const name of POLICY_CHECKS) box(name).checked = checks[name];
  });
  for (const name of POLICY_CHECKS) box(name).addEventListener('change', sync);
  sync();
}

function bindOpenForm(socket: AppSocket): void {
  const form = byId<HTMLFormElement>('open-form');
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const preset = String(data.get('preset') ?? 'custom');
    const policy: PolicyInput = {
      ...(preset !== 'custom' ? { preset: preset as PolicyPreset } : {}),
      geofence: data.has('geofence'),
      network: data.has('network'),
      rotatingCode: data.has('rotatingCode'),
      selfie: data.has('selfie'),
      // Only a step of the selfie: sent only with it, so the box alone refuses nothing.
      ...(data.has('selfie') && data.has('liveness') ? { liveness: true } : {}),
      codePeriodS: Number(data.get('codePeriodS')),
      maxAttempts: Number(data.get('maxAttempts')),
    };
    const input: SessionOpenInput = { subjectId: String(data.get('subject')), policy };
    const startsAt = isoFrom(data, 'startsAt');
    const lateAfter = isoFrom(data, 'lateAfter');
    const closesAt = isoFrom(data, 'closesAt');
    if (startsAt) input.startsAt = startsAt;
    if (lateAfter) input.lateAfter = lateAfter;
    if (closesAt) input.closesAt = closesAt;
    byId('open-error').textContent = '';
    clearRoomFix();
    sendConfirmingClashes(
      'open',
      (confirmed) => command(socket, 'session:open', { ...input, ...confirmed }),
      (id) => describeSession(socket, id),
    )
      .then((session) => watch(socket, session.id))
      .then(() => listActive(socket))
      .then(() => byId('session-title').focus())
      .catch((err: unknown) => {
        byId('open-error').textContent = errorText(err, byId('open-form'));
        offerRoomFix(
          err,
          input.subjectId,
          () => form.requestSubmit(),
          () => {
            // Unticked as the teacher would, so the preset picker shows the policy that opens.
            const network = form.querySelector<HTMLInputElement>('input[name="network"]')!;
            network.checked = false;
            network.dispatchEvent(new Event('change'));
            form.requestSubmit();
          },
        );
      });
  });
}

/**
 * The session in the way of a clash, as the teacher knows it ('CHEM1 · Chemistry, from 10:00'),
 * from a fresh active list (which the page shows too): null when it is not among them.
 */
async function describeSession(socket: AppSocket, sessionId: string): Promise<string | null> {
  const s = (await listActive(socket)).find((v) => v.id === sessionId);
  return s ? tt('teacher.sessionFrom', { session: sessionName(s), time: clockTime(s.startsAt) }) : null;
}

function bindSessionControls(socket: AppSocket): void {
  byId('close-session').addEventListener('click', () => {
    if (!watching || !confirm(tt('teacher.confirmClose'))) return;
    command(socket, 'session:close', { sessionId: watching })
      .then((result) => {
        if (roster.session) roster.session = result.session;
        renderSession(result.session);
        renderRoster(socket);
        refreshClosed(socket);
      })
      .catch((err: unknown) => (byId('session-error').textContent = errorText(err)));
  });
  const showSession = (session: SessionView) => {
    if (roster.session) roster.session = session;
    renderSession(session);
    byId('session-error').textContent = '';
  };
  const fail = (err: unknown) => (byId('session-error').textContent = errorText(err));
  byId('cancel-session').addEventListener('click', () => {
    if (!watching || !confirm(tt('teacher.confirmCancel'))) return;
    command(socket, 'session:cancel', { sessionId: watching }).then(showSession).catch(fail);
  });
  byId('reopen-session').addEventListener('click', () => {
    if (!watching) return;
    const sessionId = watching;
    sendConfirmingClashes(
      'reopen',
      (confirmed) => command(socket, 'session:reopen', { sessionId, ...confirmed }),
      (id) => describeSession(socket, id),
    )
      .then(showSession)
      .catch(fail);
  });
  const extendForm = byId<HTMLFormElement>('extend-form');
  extendForm.addEventListener('submit', (event) => {
    event.preventDefault();
    if (!watching) return;
    const data = new FormData(extendForm);
    const closesAt = isoFrom(data, 'closesAt');
    const lateAfter = isoFrom(data, 'lateAfter');
    if (!closesAt && !lateAfter) return fail(new Error(tt('teacher.giveTime')));
    const input = { sessionId: watching, ...(closesAt ? { closesAt } : {}), ...(lateAfter ? { lateAfter } : {}) };
    sendConfirmingClashes(
      'extend',
      (confirmed) => command(socket, 'session:extend', { ...input, ...confirmed }),
      (id) => describeSession(socket, id),
    )
      .then((session) => {
        showSession(session);
        extendForm.reset();
      })
      .catch(fail);
  });
  byId('download-csv').addEventListener('click', () => {
    if (!watching) return;
    const id = watching;
    // For the teacher to open in a spreadsheet: headings and statuses in the page's language.
    apiFetch(`api/v1/sessions/${encodeURIComponent(id)}/records.csv?lang=${pageLanguage()}`)
      .then((res) => res.blob())
      .then((blob) => {
        const url = URL.createObjectURL(blob);
        const a = h('a', { href: url, download: `session-${id}.csv` });
        document.body.append(a);
        a.click();
        a.remove();
        setTimeout(() => URL.revokeObjectURL(url), 10_000);
      })
      .catch((err: unknown) => (byId('session-error').textContent = errorText(err)));
  });
  const markForm = byId<HTMLFormElement>('mark-form');
  markForm.addEventListener('submit', (event) => {
    event.preventDefault();
    if (!watching) return;
    const data = new FormData(markForm);
    const studentId = String(data.get('student'));
    const note = String(data.get('note') ?? '').trim();
    const reason = String(data.get('reason') ?? '').trim();
    const status = String(data.get('status')) as MarkStatus;
    mark(socket, studentId, status, { ...(note ? { note } : {}), ...(reason ? { reason } : {}) })
      .then(() => {
        byId('session-error').textContent = '';
        markForm.reset();
        byId<HTMLSelectElement>('mark-student').value = studentId;
      })
      .catch((err: unknown) => (byId('session-error').textContent = errorText(err)));
  });
  byId('roster-filter').addEventListener('change', () => renderRoster(socket));
  byId('undo-mark').addEventListener('click', () => {
    const change = lastChange;
    if (!change || !(MARK_STATUSES as readonly string[]).includes(change.before)) return;
    // Only if nobody changed the record since: the version check refuses otherwise (RECORD_CHANGED).
    if (roster.get(change.studentId)?.recordVersion !== change.version) {
      byId('session-error').textContent = tt('teacher.recordChanged');
      return;
    }
    const closed = roster.session?.status === 'closed';
    mark(socket, change.studentId, change.before as MarkStatus, closed ? { reason: tt('teacher.undoReason') } : {})
      .then(() => {
        lastChange = null;
        renderUndo();
        byId('session-error').textContent = '';
      })
      .catch((err: unknown) => (byId('session-error').textContent = errorText(err)));
  });
  const bulkForm = byId<HTMLFormElement>('bulk-form');
  bulkForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const status = byId<HTMLSelectElement>('bulk-status').value as MarkStatus;
    const reason = byId<HTMLInputElement>('mark-reason').value.trim();
    const ids = [...picked].filter((id) => roster.get(id));
    if (ids.length === 0) {
      byId('session-error').textContent = tt('teacher.tickFirst');
      return;
    }
    // One after another: each mark carries the version it read, and the undo keeps the last one.
    void (async () => {
      const failed: string[] = [];
      for (const id of ids) {
        await mark(socket, id, status, reason ? { reason } : {}).then(
          () => picked.delete(id),
          (err: unknown) => failed.push(`${roster.get(id)?.name ?? id}: ${errorText(err)}`),
        );
      }
      renderRoster(socket);
      byId('session-error').textContent = failed.join(' ');
      announce(byId('live'), tt('teacher.bulkDone', { count: ids.length - failed.length, status: statusLabel(status) }));
    })();
  });
}

const subjectName = (s: SubjectItem & { archivedAt?: string | null }): string =>
  s.archivedAt
    ? tt('teacher.archivedName', { subject: st('staff.sessionName', { code: s.code, name: s.name }) })
    : st('staff.sessionName', { code: s.code, name: s.name });

/** The subjects in use, and the archived ones after them when the teacher asks (last year's records). */
async function loadSubjects(): Promise<SubjectItem[]> {
  const archived = byId<HTMLInputElement>('subjects-archived').checked;
  const [inUse, old] = await Promise.all([
    fetchAll<SubjectItem>('api/v1/subjects'),
    archived ? fetchAll<SubjectItem>('api/v1/subjects?archived=true') : Promise.resolve([]),
  ]);
  const items = [...inUse, ...old];
  const select = byId<HTMLSelectElement>('subject-select');
  const chosen = select.value;
  select.replaceChildren(...items.map((s) => h('option', { value: s.id }, subjectName(s))));
  // Listed again (a subject given meanwhile): the teacher's choice stays, and the timetable
  // panel, which follows the select's changes, follows one the new list made (a first subject).
  if (items.some((s) => s.id === chosen)) select.value = chosen;
  else if (select.value !== chosen) select.dispatchEvent(new Event('change'));
  return items;
}

/** Lists the subjects again, and says which the teacher was given since the last list. */
function relistSubjects(live: HTMLElement): void {
  const known = new Set([...byId<HTMLSelectElement>('subject-select').options].map((o) => o.value));
  loadSubjects().then(
    (items) => {
      const given = items.filter((s) => !known.has(s.id));
      if (given.length > 0) announce(live, tt('teacher.subjectAssigned', { subject: given.map(subjectName).join(', ') }));
    },
    (err: unknown) => (byId('open-error').textContent = errorText(err)),
  );
}

/**
 * An admin gave the teacher a subject while the page was open: it joins the list at once, and
 * its open sessions the active list (whose read also joins the subject's rooms).
 */
function bindSubjectAssigned(socket: AppSocket, live: HTMLElement): void {
  socket.on('subject:assigned', () => {
    relistSubjects(live);
    listActive(socket).catch((err: unknown) => (byId('open-error').textContent = errorText(err)));
  });
}

/** The warning of a console served over plain http://, in the page's language. */
function showHttpWarning(): void {
  const address = joinLinkProblem(currentContext());
  showProblem(byId('context-warning'), address === null ? null : tt('teacher.httpWarning', { address }));
}

async function main(): Promise<void> {
  // Before sign-in the browser's language (or this browser's last signed-in one), as on the student page.
  const first = initialLanguage();
  if (first !== 'en') await useLanguage(first);
  showHttpWarning();
  await requireLogin(['teacher', 'admin'], { localised: true });
  showHttpWarning();
  bindLogout();
  // Every line the page wrote would need writing again: the page starts over in the new language.
  bindLanguageMenu(() => location.reload());
  // Before the subjects show: a form with its subject listed already says its preset.
  bindPresetPicker(byId<HTMLFormElement>('open-form'));
  await loadSubjects().catch((err: unknown) => (byId('open-error').textContent = errorText(err)));
  byId('subjects-archived').addEventListener('change', () => {
    loadSubjects().catch((err: unknown) => (byId('open-error').textContent = errorText(err)));
  });
  void bindStaffExcuses().catch((err: unknown) => (byId('excuses-error').textContent = errorText(err)));
  await bindTimetablePanel(byId<HTMLSelectElement>('subject-select')).catch(
    (err: unknown) => (byId('timetable-error').textContent = errorText(err)),
  );
  const live = byId('live');
  let connectedBefore = false;
  const socket = connect({
    onState: showConnection,
    onLoggedOut: () => location.reload(),
    // After a drop the held roster may be stale: replace it with a fresh snapshot. A subject
    // given meanwhile was told to no socket of the teacher's (no replay): list them again.
    onSync: async (s) => {
      if (connectedBefore) relistSubjects(live);
      connectedBefore = true;
      await listActive(s);
      if (watching) await watch(s, watching).catch((err: unknown) => (byId('session-error').textContent = errorText(err)));
    },
  });
  current = socket;
  bindOpenForm(socket);
  byId('screen-privacy').addEventListener('change', () => {
    if (watching) byId<HTMLAnchorElement>('classroom-link').href = classroomHref(watching);
  });
  bindSessionControls(socket);
  bindSubjectAssigned(socket, live);
  byId('subject-select').addEventListener('change', () => refreshClosed(socket));
  refreshClosed(socket);
  socket.on('roster:updates', (batch) => feed.updates(batch));
  socket.on('roster:resync', (notice) => feed.resyncNotice(notice));
  socket.on('session:status', (session) => {
    if (session.id !== roster.session?.id) return;
    roster.session = session;
    renderSession(session);
    renderRoster(socket);
    announce(live, tt('teacher.sessionNow', { status: t(`session.${session.status}`) }));
    // Closed at close-at or by another teacher: it joins the list of sessions to correct.
    if (session.status === 'closed') refreshClosed(socket);
  });
  // A close gave the session up, still closing (CLOSE_MAX_MS): the teacher may close it again.
  socket.on('session:close-failed', (notice) => {
    if (notice.sessionId !== roster.session?.id) return;
    const err = new CommandError({ code: notice.code, message: ErrorCodes[notice.code].message });
    byId('session-error').textContent = errorText(err);
    announce(live, errorText(err));
  });
}

void main();
