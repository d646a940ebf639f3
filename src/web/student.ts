/**
 * Student page (phone first): list active sessions, join, share the location with its accuracy,
 * type the code (or take it from the QR link), a selfie when the policy asks, submit, and see
 * the decision live. Every reconnect joins again and replaces the held check-in.
 */
import type { ActiveSessionView, CheckinView, ListedCheckin, LivenessInput, LocationInput, SessionView } from '../shared/events.js';
import type { ReasonCode } from '../shared/reasons.js';
import { announce, byId, clockTime, errorText, h, queryParam, show } from './lib/dom.js';
import { bindLanguageMenu, bindLogout, requireLogin, showConnection } from './lib/page.js';
import { cameraProblem, currentContext, locationProblem, showProblem } from './lib/secure-context.js';
import { loadMyAttendance } from './lib/my-attendance.js';
import { bindStudentExcuses } from './lib/excuse-panel.js';
import { captureFrames, captureSelfie, startCamera, stopCamera } from './lib/selfie.js';
import { ACK_TIMEOUT_MS, CommandError, command, connect, type AppSocket } from './lib/socket.js';
import { deliverCheckin, rateLimitedText } from './lib/checkin-delivery.js';
import { bindOfflineNote, keepPageForOffline } from './lib/offline-shell.js';
import { needsLocation } from '../shared/policy-presets.js';
import { initialLanguage, useLanguage } from './lib/i18n.js';

import { pt } from './lib/student-text.js';
import { reasonText, t } from './lib/pages-text.js';
import { retakeAdvice } from './lib/selfie-advice.js';

let session: SessionView | null = null;
let joinedId: string | null = queryParam('session');
let fix: LocationInput | null = null;
let selfie: Uint8Array | null = null;
/** The liveness challenge's token and frames, taken with the selfie when the policy asks. */
let liveness: LivenessInput | null = null;
/** The QR link's signed join token: stands for the code through the login (docs/protocol.md). */
const linkToken: string | null = queryParam('join');

/** A session that takes no more check-ins (closing refuses them as closed does: SESSION_CLOSED). */
function ended(view: SessionView | null): boolean {
  return view === null || view.status === 'closing' || view.status === 'closed' || view.status === 'cancelled';
}

function renderDecision(view: CheckinView | null): void {
  const box = byId('decision');
  const submit = byId<HTMLButtonElement>('submit-checkin');
  if (!view) {
    box.dataset['status'] = 'none';
    byId('decision-text').textContent = pt('student.notCheckedIn');
    byId('decision-detail').textContent = '';
    // No session on screen (one the student lost), or one ended: nothing to check in to.
    submit.disabled = ended(session);
    return;
  }
  box.dataset['status'] = view.status;
  byId('decision-text').textContent = view.verifying ? pt('student.checkingSelfie') : pt(`decision.${view.status}`);
  const details = [...new Set([view.reason, ...view.flags].filter((r): r is ReasonCode => r !== null))].map(reasonText);
  const advice = retakeAdvice(view);
  if (advice) details.push(pt(advice));
  if (view.status === 'rejected')
    details.push(view.attemptsLeft > 0 ? pt('student.tryAgain', { count: view.attemptsLeft }) : pt('student.noAttemptsLeft'));
  if (view.note) details.push(pt('student.teacherNote', { note: view.note }));
  byId('decision-detail').textContent = details.join(' ');
  submit.disabled = ended(session) || !(view.status === 'rejected' && view.attemptsLeft > 0);
}

function renderSession(view: SessionView): void {
  session = view;
  byId('session-title').textContent = `${view.subjectCode} · ${view.subjectName}`;
  byId('session-info').textContent = sessionTimes(view);
  byId('policy-needs').textContent = needsText(view);
  show(byId('location-field'), needsLocation(view.policy));
  show(byId('code-field'), view.policy.rotatingCode);
  show(byId('selfie-field'), view.policy.selfie);
  // Said before the student taps.
  if (ended(view)) {
    byId<HTMLButtonElement>('submit-checkin').disabled = true;
    byId('checkin-error').textContent = view.status === 'cancelled' ? pt('student.sessionCancelled') : pt('student.sessionClosed');
  } else if (byId('checkin-error').textContent === pt('student.sessionClosed')) {
    byId('checkin-error').textContent = '';
  }
  show(byId('checkin-section'), true);
}

/** The session's times as they stand: an ended session no longer says it is open until its planned close. */
function sessionTimes(view: SessionView): string {
  if (view.status === 'cancelled') return '';
  if (view.status === 'closed' || view.status === 'closing')
    return view.closedAt ? pt('student.closedAt', { closed: clockTime(view.closedAt) }) : pt('student.closingNow');
  return pt('student.openUntil', { closes: clockTime(view.closesAt), late: clockTime(view.lateAfter) });
}

/** What the check-in asks for, in words, said before the student taps. */
function needsText(view: SessionView): string {
  const p = view.policy;
  const needs = [
    p.geofence ? pt('student.needs.geofence') : null,
    p.network ? pt('student.needs.network') : null,
    p.rotatingCode ? pt('student.needs.code') : null,
    p.selfie ? pt(p.liveness ? 'student.needs.liveness' : 'student.needs.selfie') : null,
  ].filter((n) => n !== null);
  return needs.length === 0 ? pt('student.needsNothing') : pt('student.needs', { needs: needs.join(', ') });
}

async function join(socket: AppSocket, sessionId: string): Promise<void> {
  const result = await command(socket, 'session:join', { sessionId });
  joinedId = sessionId;
  held = result.checkin;
  renderSession(result.session);
  renderDecision(result.checkin);
}

/** The sessions listed last, shown again when the time zone arrives. */
let listed: { socket: AppSocket; sessions: ActiveSessionView[] } | null = null;

/** The student's own state of a listed session, in words: said before Join, so nobody joins again to find out. */
function listedText(checkin: ListedCheckin | null | undefined): string {
  if (!checkin) return pt('listed.none');
  if (checkin.status === 'pending' && checkin.verifying) return pt('listed.verifying');
  if (checkin.status === 'rejected')
    return checkin.attemptsLeft > 0 ? pt('listed.rejected', { count: checkin.attemptsLeft }) : pt('listed.rejectedFinal');
  return pt(`listed.${checkin.status}`);
}

/** The newer of two states of one record (a push may overtake a list still on its way). */
function newer(a: ListedCheckin | null | undefined, b: ListedCheckin | null | undefined): ListedCheckin | null {
  if (!a || !b) return a ?? b ?? null;
  return b.recordVersion > a.recordVersion ? b : a;
}

/**
 * A decision about one of the student's listed sessions (the teacher's review, a selfie's
 * verification, their own tap): its line changes at once. Decisions reach every socket of the
 * student, joined or not (docs/protocol.md §7).
 */
function updateListed(view: CheckinView): void {
  if (!listed) return;
  const entry = listed.sessions.find((s) => s.id === view.sessionId);
  if (!entry) return;
  const state: ListedCheckin = {
    status: view.status,
    attemptsLeft: view.attemptsLeft,
    verifying: view.verifying,
    recordVersion: view.recordVersion,
  };
  const kept = newer(entry.checkin, state);
  if (kept === entry.checkin) return;
  renderList(
    listed.socket,
    listed.sessions.map((s) => (s === entry ? { ...s, checkin: kept } : s)),
  );
}

async function listSessions(socket: AppSocket): Promise<void> {
  renderList(socket, await command(socket, 'session:list-active', {}));
}

/** The list being asked for on an event, and whether another event came while it was. */
let relisting = false;
let relistAgain = false;

/**
 * Lists the sessions again after an event, one list at a time: a subject lost is told once per
 * session of it (session:access-lost, a dozen for a daily class with the week ahead created), and
 * a list each, all in flight at once, passed the socket's limit of commands in flight: the later
 * ones, and the join asked beside them, were refused (RATE_LIMITED). Events that come while a list
 * is on its way are answered by one more list after it, which sees them all.
 */
function relist(socket: AppSocket): void {
  if (relisting) {
    relistAgain = true;
    return;
  }
  relisting = true;
  relistAgain = false;
  void listSessions(socket)
    .catch((err: unknown) => (byId('sessions-error').textContent = errorText(err)))
    .finally(() => {
      relisting = false;
      if (relistAgain) relist(socket);
    });
}

function renderList(socket: AppSocket, answered: ActiveSessionView[]): void {
  const before = new Map(listed?.sessions.map((s) => [s.id, s.checkin]));
  const sessions = answered.map((s) => (before.has(s.id) ? { ...s, checkin: newer(s.checkin, before.get(s.id)) } : s));
  listed = { socket, sessions };
  const list = byId('session-list');
  list.replaceChildren(
    ...sessions.map((s) => {
      const button = h(
        'button',
        { type: 'button', 'data-session': s.id, 'aria-label': pt('student.joinLabel', { subject: `${s.subjectCode} ${s.subjectName}` }) },
        pt('student.join'),
      );
      button.addEventListener('click', () => {
        const url = new URL(location.href);
        url.searchParams.set('session', s.id);
        history.replaceState(null, '', url);
        void join(socket, s.id)
          .then(() => byId('session-title').focus())
          .catch((err: unknown) => (byId('sessions-error').textContent = errorText(err)));
      });
      return h(
        'li',
        {},
        h(
          'span',
          {},
          `${s.subjectCode} · ${s.subjectName}`,
          h('br'),
          h('small', {}, pt('student.listLine', { status: t(`session.${s.status}`), time: clockTime(s.closesAt), needs: needsText(s) })),
          h('br'),
          h('span', { class: 'listed-state', 'data-status': s.checkin?.status ?? 'none' }, listedText(s.checkin)),
        ),
        button,
      );
    }),
  );
  if (sessions.length === 0) list.append(h('li', {}, pt('student.noSessions')));
}

/** A fix older than this is taken again at submit: the server refuses fixes past LOCATION_MAX_AGE_S. */
const FRESH_FIX_MS = 30_000;

/**
 * Above this the fix is coarser than a classroom, and the check-in goes to the teacher rather
 * than passing by itself (a 68% radius; the server's rule is in src/domain/checks/geofence.ts).
 */
const COARSE_FIX_M = 100;

/** GeolocationPositionError codes (1 denied, 2 unavailable, 3 timeout) in words that say what to do. */
const LOCATION_ERROR_KEYS = { 1: 'student.locationDenied', 2: 'student.locationUnavailable', 3: 'student.locationTimeout' } as const;

function accuracyText(accuracyM: number): string {
  const metres = Math.round(accuracyM);
  const size = metres >= 1_000 ? `${(metres / 1_000).toFixed(1)} km` : `${metres} m`;
  return pt(accuracyM <= COARSE_FIX_M ? 'student.locationFound' : 'student.locationCoarse', { size });
}

/** How long the look again at a coarse fix may take at the tap before the held fix is sent instead. */
const RETAKE_COARSE_MS = 10_000;

function findLocation(timeoutMs = 20_000): Promise<LocationInput> {
  const status = byId('location-status');
  const problem = locationProblem(currentContext());
  if (problem) {
    status.textContent = problem;
    return Promise.reject(new Error(problem));
  }
  status.textContent = pt('student.findingLocation');
  return new Promise((resolve, reject) => {
    navigator.geolocation.getCurrentPosition(
      (pos) => {
        fix = { lat: pos.coords.latitude, lon: pos.coords.longitude, accuracy: Math.max(1, pos.coords.accuracy), timestamp: pos.timestamp };
        status.textContent = accuracyText(pos.coords.accuracy);
        status.dataset['ready'] = 'true';
        resolve(fix);
      },
      (err) => {
        fix = null;
        delete status.dataset['ready'];
        const text = pt(LOCATION_ERROR_KEYS[err.code as keyof typeof LOCATION_ERROR_KEYS] ?? 'student.locationUnavailable');
        status.textContent = text;
        reject(new Error(text));
      },
      { enableHighAccuracy: true, timeout: timeoutMs, maximumAge: 0 },
    );
  });
}

function shareLocation(): void {
  findLocation().catch((err: unknown) => console.info('no location', err));
}

/** The held fix on screen again, after a look for a better one found none. */
function keepFix(held: LocationInput): LocationInput {
  fix = held;
  const status = byId('location-status');
  status.textContent = accuracyText(held.accuracy);
  status.dataset['ready'] = 'true';
  return held;
}

/**
 * The fix to send: the shared one while fresh, else a new one taken now. A fresh but coarse one
 * is looked at again and the finer of the two sent: shared before the GPS had found its
 * satellites, it would send to the teacher's review a student whose phone now knows better.
 * Not with a typed code and no QR link (`retake` false): the code may already be the previous
 * period's, and the look's seconds could have it refused and spend an attempt, where a coarse fix
 * only asks for a review.
 */
function freshFix(retake: boolean): Promise<LocationInput> {
  const held = fix;
  if (!held || Date.now() - new Date(held.timestamp).getTime() > FRESH_FIX_MS) return findLocation();
  if (held.accuracy <= COARSE_FIX_M || !retake) return Promise.resolve(held);
  return findLocation(RETAKE_COARSE_MS).then(
    (again) => (again.accuracy <= held.accuracy ? again : keepFix(held)),
    () => keepFix(held),
  );
}

/**
 * The phone has no network at all: the tap is refused at once rather than after a timeout (a
 * check-in held back for minutes would carry a stale code and location, and the window may
 * close meanwhile), never kept to be sent later. Once live again the page says so and asks for
 * the tap again, which takes a fresh location. A page merely reconnecting waits.
 */
function offerRetryOnline(socket: AppSocket): void {
  const error = byId('checkin-error');
  if (navigator.onLine && socket.connected && error.dataset['offline'] === 'true') {
    error.textContent = ended(session) ? '' : pt('student.backOnline');
    delete error.dataset['offline'];
  }
}

const DEVICE_KEY = 'attendance.deviceId';

/**
 * A random id this browser keeps, sent with each check-in so the teacher sees when one device
 * checks in several accounts (docs/protocol.md, "Proxy signals"). Clearing the storage resets it.
 */
function deviceId(): string | null {
  try {
    const held = localStorage.getItem(DEVICE_KEY);
    if (held && /^[A-Za-z0-9_-]{8,64}$/.test(held)) return held;
    const fresh = crypto.randomUUID();
    localStorage.setItem(DEVICE_KEY, fresh);
    return fresh;
  } catch (err) {
    // Storage refused (private mode, settings): check in without the id rather than not at all.
    console.warn('no device id', err);
    return null;
  }
}

/** The result goes where the student is looking (on screen, with focus) and to screen readers. */
function showResult(view: CheckinView): void {
  held = view;
  renderDecision(view);
  updateListed(view);
  const box = byId('decision');
  box.scrollIntoView({ block: 'center' });
  box.focus({ preventScroll: true });
  announce(byId('live'), `${byId('decision-text').textContent ?? ''} ${byId('decision-detail').textContent ?? ''}`.trim());
}

/**
 * After the selfie, when the policy asks for liveness: the server's random challenge is shown
 * and frames are captured while the student performs it (docs/protocol.md §5.6a).
 */
async function performChallenge(socket: AppSocket, video: HTMLVideoElement, sessionId: string): Promise<LivenessInput> {
  const c = await command(socket, 'checkin:challenge', { sessionId });
  const status = byId('selfie-status');
  status.textContent = pt('student.challengeNow', { prompt: c.prompt });
  announce(byId('live'), c.prompt);
  const count = Math.min(c.maxFrames, Math.max(c.minFrames, 6));
  const frames = await captureFrames(video, count, Math.min(c.captureMs, 2_500));
  return { token: c.token, frames };
}

function bindSelfie(socket: AppSocket): void {
  const video = byId<HTMLVideoElement>('selfie-video');
  byId('selfie-start').addEventListener('click', () => {
    const problem = cameraProblem(currentContext());
    if (problem) {
      byId('selfie-status').textContent = problem;
      return;
    }
    startCamera(video).then(
      () => (byId('selfie-status').textContent = pt('student.cameraOn')),
      (err: unknown) => (byId('selfie-status').textContent = pt('student.cameraUnavailable', { reason: errorText(err) })),
    );
  });
  byId('selfie-take').addEventListener('click', () => {
    const current = session;
    liveness = null;
    captureSelfie(video)
      .then(async (bytes) => {
        selfie = bytes;
        if (current?.policy.liveness) liveness = await performChallenge(socket, video, current.id);
        stopCamera(video);
        byId('selfie-status').textContent = pt(liveness ? 'student.selfieTakenChallenge' : 'student.selfieTaken', {
          size: Math.round(bytes.byteLength / 1024),
        });
      })
      .catch((err: unknown) => {
        selfie = null;
        byId('selfie-status').textContent = errorText(err);
      });
  });
}

/** The record held before the tap: a later read showing more attempts means the tap arrived. */
let held: CheckinView | null = null;

/** Waits for the socket's next connect; rejects after `timeoutMs`. */
function nextConnect(socket: AppSocket, timeoutMs: number): Promise<void> {
  if (socket.connected) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onConnect = () => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      socket.off('connect', onConnect);
      reject(new Error('not connected'));
    }, timeoutMs);
    socket.once('connect', onConnect);
  });
}

/** A selfie upload over a slow link takes a while: the answer is awaited for 1 s more per 10 KB sent. */
function submitTimeoutMs(bytes: number): number {
  return ACK_TIMEOUT_MS + Math.ceil(bytes / 10_000) * 1_000;
}

/** A refusal in words that say what to do; other errors keep their own message. */
function refusalText(err: unknown): string {
  if (err instanceof CommandError && err.code === 'RATE_LIMITED') return rateLimitedText(err);
  return errorText(err);
}

function bindCheckin(socket: AppSocket): void {
  byId('share-location').addEventListener('click', shareLocation);
  const form = byId<HTMLFormElement>('checkin-form');
  const progress = byId('checkin-progress');
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const error = byId('checkin-error');
    const submit = byId<HTMLButtonElement>('submit-checkin');
    if (!session || submit.getAttribute('aria-busy') === 'true') return;
    error.textContent = '';
    if (!navigator.onLine) {
      error.textContent = pt('student.offline');
      error.dataset['offline'] = 'true';
      return;
    }
    delete error.dataset['offline'];
    const current = session;
    const wantsFix = needsLocation(current.policy);
    if (current.policy.selfie && (!selfie || (current.policy.liveness && !liveness))) {
      error.textContent = pt('student.takeSelfieFirst');
      return;
    }
    // Spaces typed between the digits, as the screen groups them, are not part of the code.
    const code = byId<HTMLInputElement>('code').value.replace(/\s+/g, '');
    if (current.policy.rotatingCode && !code && !linkToken) {
      // Sent without it, the check-in is refused as CODE_MISSING and spends one of the attempts.
      error.textContent = pt('student.typeCodeFirst');
      byId('code').focus();
      return;
    }
    const device = deviceId();
    submit.disabled = true;
    submit.setAttribute('aria-busy', 'true');
    const send = async (): Promise<CheckinView> => {
      const location = wantsFix
        ? await freshFix(!(current.policy.rotatingCode && code && !linkToken)).catch((err: unknown) => {
            byId('share-location').focus();
            throw err;
          })
        : null;
      const photo = current.policy.selfie ? selfie : null;
      const frames = current.policy.liveness ? liveness : null;
      const bytes = (photo?.byteLength ?? 0) + (frames?.frames.reduce((n, f) => n + f.byteLength, 0) ?? 0);
      return command(
        socket,
        'checkin:submit',
        {
          sessionId: current.id,
          ...(location ? { location } : {}),
          ...(current.policy.rotatingCode && code ? { code } : {}),
          ...(current.policy.rotatingCode && linkToken ? { joinToken: linkToken } : {}),
          ...(photo ? { selfie: photo } : {}),
          ...(frames ? { liveness: frames } : {}),
          ...(device ? { deviceId: device } : {}),
        },
        submitTimeoutMs(bytes),
      );
    };
    deliverCheckin(
      {
        send,
        held: async () => (await command(socket, 'session:join', { sessionId: current.id })).checkin,
        isConnected: () => socket.connected,
        connected: (ms) => nextConnect(socket, ms),
        progress: (text) => (progress.textContent = text),
        sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
        later: (fn, ms) => {
          const timer = setTimeout(fn, ms);
          return () => clearTimeout(timer);
        },
      },
      held,
    )
      .then((view) => {
        // A code refused (read before it rotated twice) is not sent again by the next tap.
        if (view.status === 'rejected' && [view.reason, ...view.flags].includes('CODE_INVALID')) byId<HTMLInputElement>('code').value = '';
        showResult(view);
      })
      .catch((err: unknown) => {
        // A session that ended while the tap was on its way offers no check-in again.
        submit.disabled = ended(session);
        error.textContent = refusalText(err);
      })
      .finally(() => {
        progress.textContent = '';
        submit.removeAttribute('aria-busy');
        // A challenge is good for one check-in and 30 s: a retry takes the selfie again.
        liveness = null;
      });
  });
}

/** The session on screen no longer admits the student (NOT_ENROLLED): no check-in can be sent to it. */
function lostSession(err: unknown): void {
  byId('checkin-error').textContent = errorText(err);
  if (!(err instanceof CommandError) || err.code !== 'NOT_ENROLLED') return;
  session = null;
  joinedId = null;
  byId<HTMLButtonElement>('submit-checkin').disabled = true;
}

/** The sections below the form load after the first sync, or after this long without one. */
const REST_AFTER_MS = 10_000;

/** Writes again what the page wrote itself: the times follow the zone, the words the language. */
function rerender(): void {
  showProblem(byId('context-warning'), locationProblem(currentContext()));
  if (byId('submit-checkin').getAttribute('aria-busy') !== 'true') renderDecision(held);
  if (session) renderSession(session);
  if (listed) renderList(listed.socket, listed.sessions);
}

async function main(): Promise<void> {
  // Said before the login form, so nobody types a password into a page that cannot check in.
  // Before sign-in the page speaks the browser's language (or the signed-in user's last one).
  const first = initialLanguage();
  if (first !== 'en') await useLanguage(first);
  showProblem(byId('context-warning'), locationProblem(currentContext()));
  bindOfflineNote();
  // The socket starts without waiting for the time zone; the times shown follow once it is known.
  const auth = await requireLogin(['student'], {
    localised: true,
    onTimeZone: rerender,
  });
  bindLogout();
  // Below the check-in form: on a slow link these wait until the session is on screen, so their
  // requests do not hold up the socket's.
  let restLoaded = false;
  const loadRest = () => {
    // Offline (a reload the service worker answered): loaded at the first sync once live again.
    if (restLoaded || !navigator.onLine) return;
    restLoaded = true;
    keepPageForOffline();
    void loadMyAttendance(auth.user.id);
    void bindStudentExcuses().catch((err: unknown) => (byId('excuse-error').textContent = errorText(err)));
  };
  setTimeout(loadRest, REST_AFTER_MS);
  bindLanguageMenu(() => {
    rerender();
    if (restLoaded) void loadMyAttendance(auth.user.id);
  });
  byId('my-refresh').addEventListener('click', () => void loadMyAttendance(auth.user.id));
  const linkCode = queryParam('code');
  if (linkCode) byId<HTMLInputElement>('code').value = linkCode;
  if (linkToken) byId('code-hint').textContent = pt('student.codeFromLink');
  const socket = connect({
    onState: (state) => {
      showConnection(state);
      if (state === 'online') offerRetryOnline(socket);
    },
    onLoggedOut: () => location.reload(),
    // The list and the linked session at once: one round trip less before the form is usable.
    onSync: async (s) => {
      await Promise.all([
        listSessions(s).catch((err: unknown) => (byId('sessions-error').textContent = errorText(err))),
        joinedId ? join(s, joinedId).catch((err: unknown) => (byId('sessions-error').textContent = errorText(err))) : null,
      ]);
      loadRest();
    },
  });
  bindSelfie(socket);
  bindCheckin(socket);
  window.addEventListener('online', () => offerRetryOnline(socket));
  byId('refresh-sessions').addEventListener('click', () => void listSessions(socket));
  socket.on('checkin:decision', (view) => {
    updateListed(view);
    if (view.sessionId !== joinedId) return;
    // Two nodes may both push a record (its own node, and another's catch-up after a Redis
    // outage): an older view never replaces a newer one.
    if (held?.recordId === view.recordId && view.recordVersion < held.recordVersion) return;
    showResult(view);
  });
  socket.on('session:access-lost', ({ sessionId }) => {
    // Unenrolled from the subject: its sessions leave the list, and the one on screen says so.
    relist(socket);
    if (sessionId !== joinedId) return;
    // Asked again rather than believed: a student enrolled again meanwhile carries on.
    void join(socket, sessionId).catch((err: unknown) => lostSession(err));
  });
  socket.on('subject:enrolled', () => {
    // Enrolled in a subject while connected: its sessions already live join the list.
    relist(socket);
  });
  socket.on('session:status', (view) => {
    // A session of one of the student's subjects opened, changed or ended: the list follows.
    relist(socket);
    if (view.id !== joinedId) return;
    // Reopened: closing's absent may have been taken back, so read the check-in again.
    if (view.status === 'open' && (session?.status === 'closed' || session?.status === 'closing'))
      void join(socket, view.id).catch((err: unknown) => (byId('checkin-error').textContent = errorText(err)));
    else renderSession(view);
  });
}

void main();
