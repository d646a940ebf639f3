/**
 * Classroom screen (projector): subject, time left, the rotating code with its QR join link,
 * live counters and the roster. Watches the session; every reconnect takes a fresh snapshot.
 *
 * Privacy mode (default; `?privacy=off` turns it off): the whole class sees the screen, so it
 * names only students who are present or late (`?names=initials`: initials only) and never
 * who is rejected, absent, excused or pending; those appear as counts. No staff identity.
 */
import QRCode from 'qrcode';
import type { CodeView, RosterEntry, SessionView } from '../shared/events.js';
import { announce, byId, clockTime, errorText, h, queryParam, show, timeLeft } from './lib/dom.js';
import { bindLogout, requireLogin, showConnection } from './lib/page.js';
import { RosterFeed } from './lib/roster.js';
import { KeyedRows } from './lib/keyed-rows.js';
import { COUNT_LABELS } from '../shared/counts.js';
import { initialLanguage, useLanguage } from './lib/i18n.js';

import { st, statusLabel } from './lib/staff-text.js';
import { ct } from './lib/classroom-text.js';
import { command, connect, type AppSocket } from './lib/socket.js';
import { t } from './lib/pages-text.js';

let socket: AppSocket | null = null;
// Gaps and resync notices fetch a fresh snapshot by themselves (docs/protocol.md §8).
const feed = new RosterFeed({
  fetchSnapshot: (sessionId) => (socket ? command(socket, 'session:watch', { sessionId }) : Promise.reject(new Error('not connected'))),
  onSnapshot: (snapshot) => {
    renderSession(snapshot.session);
    renderRoster();
  },
  // One redraw and one announcement per roster:updates message, however many students it carries.
  onEntries: (entries) => {
    rosterRows().apply(entries);
    renderCounts();
    const named = entries.filter(shown);
    if (named.length === 1) {
      announce(byId('live'), ct('classroom.statusOf', { status: statusLabel(named[0]!.status), name: displayName(named[0]!.name) }));
    } else if (named.length > 1) announce(byId('live'), ct('classroom.more', { count: named.length, counts: countsText() }));
  },
  onError: (err) => (byId('session-status').textContent = errorText(err)),
});
const roster = feed.roster;
const privacy = queryParam('privacy') !== 'off';
const initialsOnly = queryParam('names') === 'initials';
/** Who the class may see by name in privacy mode. */
const SHOWN_IN_PRIVACY: ReadonlySet<RosterEntry['status']> = new Set(['present', 'late']);

function shown(entry: RosterEntry): boolean {
  return !privacy || SHOWN_IN_PRIVACY.has(entry.status);
}

function displayName(name: string): string {
  if (!initialsOnly) return name;
  return name
    .split(/\s+/)
    .filter(Boolean)
    .map((part) => `${part[0]!.toUpperCase()}.`)
    .join(' ');
}
let codeTimer: number | undefined;
/** The status line under the times: nothing while the session runs. */
function sessionNote(status: SessionView['status']): string {
  if (status === 'scheduled' || status === 'open') return '';
  return ct(`classroom.${status}`);
}

/** The QR link carries a signed join token, not the code: it stays valid through a login. */
function joinLink(sessionId: string, joinToken: string): string {
  const url = new URL('student.html', document.baseURI);
  url.searchParams.set('session', sessionId);
  url.searchParams.set('join', joinToken);
  return url.href;
}

/**
 * The address under the QR code, for a phone that will not scan: typed from the back of the
 * room, so short (the student then picks the session and enters the code). The QR's own link
 * carries the session and a signed token no one could copy by hand. It may break after the host.
 */
function typedLink(): HTMLElement[] {
  const url = new URL('student.html', document.baseURI);
  return [h('span', {}, url.host), h('wbr'), h('span', {}, url.pathname)];
}

function renderSession(session: SessionView): void {
  const subject = byId('subject');
  delete subject.dataset['i18n'];
  subject.textContent = st('staff.sessionName', { code: session.subjectCode, name: session.subjectName });
  byId('session-times').textContent = ct('classroom.times', { late: clockTime(session.lateAfter), closes: clockTime(session.closesAt) });
  byId('session-status').textContent = sessionNote(session.status);
  show(byId('code-panel'), session.policy.rotatingCode && session.status === 'open');
  show(byId('join-panel'), session.status === 'open');
  show(byId('join-code-hint'), session.policy.rotatingCode);
  byId('join-link').replaceChildren(...typedLink());
  tick();
}

function tick(): void {
  const session = roster.session;
  if (!session) return;
  byId('time-left').textContent = session.status === 'open' || session.status === 'scheduled' ? timeLeft(session.closesAt) : '0:00';
}

function entryItem(entry: RosterEntry): HTMLLIElement {
  return h(
    'li',
    { class: `student status-${entry.status}`, 'data-student-id': entry.studentId, 'data-status': entry.status },
    h('span', { class: 'student-name' }, displayName(entry.name)),
    h('span', { class: 'student-status' }, statusLabel(entry.status)),
  );
}

function renderCounts(): void {
  // One counter per bucket of src/shared/counts.ts: they add up to the total shown.
  const counts = roster.counts();
  for (const [key] of COUNT_LABELS) byId(`count-${key === 'notYet' ? 'not-yet' : key}`).textContent = String(counts[key]);
  byId('count-total').textContent = String(counts.total);
}

/** The counts in words, for the screen reader after a burst (the names are on screen). */
function countsText(): string {
  const counts = roster.counts();
  return ct('classroom.countsText', { present: counts.present, late: counts.late, total: counts.total });
}

/** The roster's rows, one per student the screen may name, each redrawn only when it changes. */
let rows: KeyedRows<RosterEntry> | null = null;
function rosterRows(): KeyedRows<RosterEntry> {
  rows ??= new KeyedRows(byId('roster'), entryItem, shown);
  return rows;
}

function renderRoster(): void {
  rosterRows().replaceAll(roster.list());
  renderCounts();
}

async function showCode(view: CodeView): Promise<void> {
  byId('code').textContent = view.code;
  const link = joinLink(view.sessionId, view.joinToken);
  await QRCode.toCanvas(byId<HTMLCanvasElement>('qr'), link, { width: 360, margin: 1, errorCorrectionLevel: 'M' });
}

/** Polls session:code at each expiry; the server is the only source of codes. */
async function pollCode(socket: AppSocket, sessionId: string): Promise<void> {
  window.clearTimeout(codeTimer);
  if (!socket.connected || roster.session?.status !== 'open') return;
  try {
    const view = await command(socket, 'session:code', { sessionId });
    await showCode(view);
    const wait = Math.max(1_000, Date.parse(view.expiresAt) - Date.now() + 250);
    codeTimer = window.setTimeout(() => void pollCode(socket, sessionId), wait);
  } catch (err) {
    byId('code').textContent = '—';
    console.warn('code poll failed; retrying', err);
    codeTimer = window.setTimeout(() => void pollCode(socket, sessionId), 3_000);
  }
}

async function listSessions(socket: AppSocket): Promise<void> {
  const sessions = await command(socket, 'session:list-active', {});
  byId('pick-error').textContent = '';
  const list = byId('session-list');
  list.replaceChildren(
    ...sessions.map((s) =>
      h(
        'li',
        {},
        h(
          'a',
          { href: `classroom.html?session=${encodeURIComponent(s.id)}` },
          ct('classroom.sessionItem', {
            session: st('staff.sessionName', { code: s.subjectCode, name: s.subjectName }),
            time: clockTime(s.startsAt),
          }),
        ),
      ),
    ),
  );
  if (sessions.length === 0) list.append(h('li', {}, ct('classroom.noSessions')));
}

async function main(): Promise<void> {
  // Before sign-in the browser's language (or this browser's last signed-in one), then the teacher's own, else the school's.
  const first = initialLanguage();
  if (first !== 'en') await useLanguage(first);
  await requireLogin(['teacher', 'admin'], { localised: true });
  bindLogout();
  byId('fullscreen').addEventListener('click', () => {
    if (document.fullscreenElement) void document.exitFullscreen();
    else void document.documentElement.requestFullscreen().catch((err: unknown) => console.warn('full screen refused', err));
  });
  document.addEventListener('fullscreenchange', () => {
    const button = byId('fullscreen');
    delete button.dataset['i18n'];
    button.textContent = ct(document.fullscreenElement ? 'classroom.leaveFullScreen' : 'classroom.fullScreen');
  });
  const sessionId = queryParam('session');
  show(byId('pick'), !sessionId);
  show(byId('screen'), Boolean(sessionId));
  // On the projector the page must fit the screen, and the class must not see who is signed in.
  document.body.classList.toggle('projecting', Boolean(sessionId));
  byId('roster-title').textContent = ct(privacy ? 'classroom.checkedIn' : 'classroom.roster');
  show(byId('roster-title'), true);
  const live = byId('live');

  const sync = async (s: AppSocket): Promise<void> => {
    try {
      if (!sessionId) return await listSessions(s);
      await feed.watch(sessionId);
      await pollCode(s, sessionId);
    } catch (err) {
      byId(sessionId ? 'session-status' : 'pick-error').textContent = errorText(err);
    }
  };
  socket = connect({ onState: showConnection, onLoggedOut: () => location.reload(), onSync: sync });
  // A subject given to the teacher: its sessions join the picker (whose read also joins the
  // subject's rooms), and a session of it the screen was refused may now be shown.
  socket.on('subject:assigned', () => {
    if (!sessionId || !roster.session) void sync(socket!);
  });
  socket.on('roster:updates', (batch) => feed.updates(batch));
  socket.on('roster:resync', (notice) => feed.resyncNotice(notice));
  socket.on('session:status', (session) => {
    if (session.id !== roster.session?.id) return;
    roster.session = session;
    renderSession(session);
    if (session.status === 'open') void pollCode(socket!, session.id);
    else window.clearTimeout(codeTimer);
    announce(live, ct('classroom.sessionNow', { status: t(`session.${session.status}`) }));
  });
  window.setInterval(tick, 1_000);
}

void main();
