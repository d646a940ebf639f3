/**
 * Student page (phone first): list active sessions, join, share the location with its accuracy,
 * type the code (or take it from the QR link), a selfie when the policy asks, submit, and see
 * the decision live. Every reconnect joins again and replaces the held check-in.
 */
import type { CheckinView, LivenessInput, LocationInput, SessionView } from '../shared/events.js';
import type { ReasonCode } from '../shared/reasons.js';
import { announce, byId, clockTime, errorText, h, queryParam, reasonText, show } from './lib/dom.js';
import { bindLogout, requireLogin, showConnection } from './lib/page.js';
import { cameraProblem, currentContext, locationProblem, showProblem } from './lib/secure-context.js';
import { loadMyAttendance } from './lib/my-attendance.js';
import { bindStudentExcuses } from './lib/excuse-panel.js';
import { captureFrames, captureSelfie, startCamera, stopCamera } from './lib/selfie.js';
import { ACK_TIMEOUT_MS, CommandError, command, connect, type AppSocket } from './lib/socket.js';
import { deliverCheckin, rateLimitedText } from './lib/checkin-delivery.js';
import { needsLocation, policyNeeds } from '../shared/policy-presets.js';

const DECISION_TEXT: Record<CheckinView['status'], string> = {
  present: 'You are marked present.',
  late: 'You are marked late.',
  pending: 'Waiting for the teacher to review your check-in.',
  rejected: 'Your check-in was rejected.',
  excused: 'You are excused.',
  absent: 'You are marked absent.',
};

let session: SessionView | null = null;
let joinedId: string | null = queryParam('session');
let fix: LocationInput | null = null;
let selfie: Uint8Array | null = null;
/** The liveness challenge's token and frames, taken with the selfie when the policy asks. */
let liveness: LivenessInput | null = null;
/** The QR link's signed join token: stands for the code through the login (docs/protocol.md). */
const linkToken: string | null = queryParam('join');

function renderDecision(view: CheckinView | null): void {
  const box = byId('decision');
  const submit = byId<HTMLButtonElement>('submit-checkin');
  if (!view) {
    box.dataset['status'] = 'none';
    byId('decision-text').textContent = 'Not checked in yet.';
    byId('decision-detail').textContent = '';
    submit.disabled = false;
    return;
  }
  box.dataset['status'] = view.status;
  byId('decision-text').textContent = view.verifying ? 'Checking your selfie…' : DECISION_TEXT[view.status];
  const details = [...new Set([view.reason, ...view.flags].filter((r): r is ReasonCode => r !== null))].map(reasonText);
  if (view.status === 'rejected')
    details.push(view.attemptsLeft > 0 ? `You may try again (${view.attemptsLeft} left).` : 'No attempts left; talk to your teacher.');
  if (view.note) details.push(`Teacher's note: ${view.note}`);
  byId('decision-detail').textContent = details.join(' ');
  submit.disabled = !(view.status === 'rejected' && view.attemptsLeft > 0);
}

function renderSession(view: SessionView): void {
  session = view;
  byId('session-title').textContent = `${view.subjectCode} · ${view.subjectName}`;
  byId('session-info').textContent = `Open until ${clockTime(view.closesAt)} (late after ${clockTime(view.lateAfter)}).`;
  byId('policy-needs').textContent = needsText(view);
  show(byId('location-field'), needsLocation(view.policy));
  show(byId('code-field'), view.policy.rotatingCode);
  show(byId('selfie-field'), view.policy.selfie);
  if (view.status === 'closed' || view.status === 'cancelled') {
    byId<HTMLButtonElement>('submit-checkin').disabled = true;
    byId('checkin-error').textContent = view.status === 'cancelled' ? 'The session was cancelled.' : 'The session is closed.';
  } else if (byId('checkin-error').textContent === 'The session is closed.') {
    byId('checkin-error').textContent = '';
  }
  show(byId('checkin-section'), true);
}

/** What the check-in asks for, in words, said before the student taps. */
function needsText(view: SessionView): string {
  const needs = policyNeeds(view.policy);
  return needs.length === 0 ? 'Check-in needs only a tap: no location, code or selfie.' : `Check-in needs ${needs.join(', ')}.`;
}

async function join(socket: AppSocket, sessionId: string): Promise<void> {
  const result = await command(socket, 'session:join', { sessionId });
  joinedId = sessionId;
  held = result.checkin;
  renderSession(result.session);
  renderDecision(result.checkin);
}

/** The sessions listed last, shown again when the time zone arrives. */
let listed: { socket: AppSocket; sessions: SessionView[] } | null = null;

async function listSessions(socket: AppSocket): Promise<void> {
  renderList(socket, await command(socket, 'session:list-active', {}));
}

function renderList(socket: AppSocket, sessions: SessionView[]): void {
  listed = { socket, sessions };
  const list = byId('session-list');
  list.replaceChildren(
    ...sessions.map((s) => {
      const button = h('button', { type: 'button', 'aria-label': `Join ${s.subjectCode} ${s.subjectName}` }, 'Join');
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
          h('small', {}, `${s.status}, until ${clockTime(s.closesAt)}. ${needsText(s)}`),
        ),
        button,
      );
    }),
  );
  if (sessions.length === 0) list.append(h('li', {}, 'No open sessions for your subjects right now.'));
}

/** A fix older than this is taken again at submit: the server refuses fixes past LOCATION_MAX_AGE_S. */
const FRESH_FIX_MS = 30_000;
/** Said when a tap cannot reach the server; cleared as soon as the page is live again. */
const OFFLINE_TEXT = 'You are offline: the check-in was not sent. Try again when the connection is back.';

/**
 * Above this the fix is coarser than a classroom, and the check-in goes to the teacher rather
 * than passing by itself (a 68% radius; the server's rule is in src/domain/checks/geofence.ts).
 */
const COARSE_FIX_M = 100;

/** GeolocationPositionError codes (1 denied, 2 unavailable, 3 timeout) in words that say what to do. */
const LOCATION_ERROR_TEXT: Record<number, string> = {
  1:
    'Location is blocked for this page, so you cannot check in yet. Allow it: tap the lock or settings icon next to the address, ' +
    'set Location to Allow (on a phone, also turn on Location in its settings), then tap Share my location again.',
  2: 'Your phone could not find its location. Turn on Location (GPS) in the phone settings, move near a window, then tap Share my location again.',
  3: 'Finding your location took too long. Move near a window or outside the door, then tap Share my location again.',
};

function accuracyText(accuracyM: number): string {
  const metres = Math.round(accuracyM);
  const size = metres >= 1_000 ? `${(metres / 1_000).toFixed(1)} km` : `${metres} m`;
  if (accuracyM <= COARSE_FIX_M) return `Location found, accurate to about ${size}.`;
  return (
    `Location found, but only accurate to about ${size}: your teacher will have to review the check-in. ` +
    'For a better fix turn on precise location (or Wi-Fi), move near a window, then tap Share my location again.'
  );
}

function findLocation(): Promise<LocationInput> {
  const status = byId('location-status');
  const problem = locationProblem(currentContext());
  if (problem) {
    status.textContent = problem;
    return Promise.reject(new Error(problem));
  }
  status.textContent = 'Finding your location…';
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
        const text = LOCATION_ERROR_TEXT[err.code] ?? LOCATION_ERROR_TEXT[2]!;
        status.textContent = text;
        reject(new Error(text));
      },
      { enableHighAccuracy: true, timeout: 20_000, maximumAge: 0 },
    );
  });
}

function shareLocation(): void {
  findLocation().catch((err: unknown) => console.info('no location', err));
}

/** The fix to send: the shared one while fresh, else a new one taken now. */
function freshFix(): Promise<LocationInput> {
  if (fix && Date.now() - new Date(fix.timestamp).getTime() <= FRESH_FIX_MS) return Promise.resolve(fix);
  return findLocation();
}

/**
 * The phone has no network at all: the tap is refused at once rather than after a timeout (a
 * check-in held back for minutes would carry a stale code). A page merely reconnecting waits.
 */
function clearOfflineError(socket: AppSocket): void {
  const error = byId('checkin-error');
  if (navigator.onLine && socket.connected && error.dataset['offline'] === 'true') {
    error.textContent = '';
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
  status.textContent = `${c.prompt} now…`;
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
      () => (byId('selfie-status').textContent = 'Camera on. Take the selfie when your face fills the frame.'),
      (err: unknown) => (byId('selfie-status').textContent = `Camera unavailable: ${errorText(err)}`),
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
        byId('selfie-status').textContent =
          `Selfie taken (${Math.round(bytes.byteLength / 1024)} KB)${liveness ? ' with the challenge' : ''}.`;
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
      error.textContent = OFFLINE_TEXT;
      error.dataset['offline'] = 'true';
      return;
    }
    delete error.dataset['offline'];
    const current = session;
    const wantsFix = needsLocation(current.policy);
    if (current.policy.selfie && (!selfie || (current.policy.liveness && !liveness))) {
      error.textContent = 'Take a selfie first.';
      return;
    }
    const code = byId<HTMLInputElement>('code').value.trim();
    const device = deviceId();
    submit.disabled = true;
    submit.setAttribute('aria-busy', 'true');
    const send = async (): Promise<CheckinView> => {
      const location = wantsFix
        ? await freshFix().catch((err: unknown) => {
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
      .then(showResult)
      .catch((err: unknown) => {
        submit.disabled = false;
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

/** The sections below the form load after the first sync, or after this long without one. */
const REST_AFTER_MS = 10_000;

async function main(): Promise<void> {
  // Said before the login form, so nobody types a password into a page that cannot check in.
  showProblem(byId('context-warning'), locationProblem(currentContext()));
  // The socket starts without waiting for the time zone; the times shown follow once it is known.
  const auth = await requireLogin(['student'], {
    onTimeZone: () => {
      if (session) renderSession(session);
      if (listed) renderList(listed.socket, listed.sessions);
    },
  });
  bindLogout();
  // Below the check-in form: on a slow link these wait until the session is on screen, so their
  // requests do not hold up the socket's.
  let restLoaded = false;
  const loadRest = () => {
    if (restLoaded) return;
    restLoaded = true;
    void loadMyAttendance(auth.user.id);
    void bindStudentExcuses().catch((err: unknown) => (byId('excuse-error').textContent = errorText(err)));
  };
  setTimeout(loadRest, REST_AFTER_MS);
  byId('my-refresh').addEventListener('click', () => void loadMyAttendance(auth.user.id));
  const linkCode = queryParam('code');
  if (linkCode) byId<HTMLInputElement>('code').value = linkCode;
  if (linkToken)
    byId('code-hint').textContent = 'The QR link already holds the code for 5 minutes; type the code on the screen only after that.';
  const socket = connect({
    onState: (state) => {
      showConnection(state);
      if (state === 'online') clearOfflineError(socket);
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
  window.addEventListener('online', () => clearOfflineError(socket));
  byId('refresh-sessions').addEventListener('click', () => void listSessions(socket));
  socket.on('checkin:decision', (view) => {
    if (view.sessionId !== joinedId) return;
    showResult(view);
  });
  socket.on('session:status', (view) => {
    // A session of one of the student's subjects opened, changed or ended: the list follows.
    void listSessions(socket).catch((err: unknown) => (byId('sessions-error').textContent = errorText(err)));
    if (view.id !== joinedId) return;
    // Reopened: closing's absent may have been taken back, so read the check-in again.
    if (view.status === 'open' && session?.status === 'closed')
      void join(socket, view.id).catch((err: unknown) => (byId('checkin-error').textContent = errorText(err)));
    else renderSession(view);
  });
}

void main();
