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
import { command, connect, type AppSocket } from './lib/socket.js';
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
  renderSession(result.session);
  renderDecision(result.checkin);
}

async function listSessions(socket: AppSocket): Promise<void> {
  const sessions = await command(socket, 'session:list-active', {});
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
        status.textContent = `Location found, accurate to about ${Math.round(pos.coords.accuracy)} m.`;
        status.dataset['ready'] = 'true';
        resolve(fix);
      },
      (err) => {
        fix = null;
        delete status.dataset['ready'];
        const text =
          err.code === err.PERMISSION_DENIED
            ? 'Location permission was refused; allow it in the browser settings.'
            : `No location: ${err.message}`;
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

/** The page cannot reach the server: the tap is refused at once rather than after a timeout. */
function isOffline(socket: AppSocket): boolean {
  return !navigator.onLine || !socket.connected;
}

function clearOfflineError(socket: AppSocket): void {
  const error = byId('checkin-error');
  if (!isOffline(socket) && error.dataset['offline'] === 'true') {
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

function bindCheckin(socket: AppSocket): void {
  byId('share-location').addEventListener('click', shareLocation);
  const form = byId<HTMLFormElement>('checkin-form');
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const error = byId('checkin-error');
    error.textContent = '';
    if (!session) return;
    if (isOffline(socket)) {
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
    const submit = byId<HTMLButtonElement>('submit-checkin');
    const device = deviceId();
    submit.disabled = true;
    (wantsFix ? freshFix() : Promise.resolve(null))
      .catch((err: unknown) => {
        byId('share-location').focus();
        throw err;
      })
      .then((location) =>
        command(socket, 'checkin:submit', {
          sessionId: current.id,
          ...(location ? { location } : {}),
          ...(current.policy.rotatingCode && code ? { code } : {}),
          ...(current.policy.rotatingCode && linkToken ? { joinToken: linkToken } : {}),
          ...(current.policy.selfie && selfie ? { selfie } : {}),
          ...(current.policy.liveness && liveness ? { liveness } : {}),
          ...(device ? { deviceId: device } : {}),
        }),
      )
      .then(showResult)
      .catch((err: unknown) => {
        submit.disabled = false;
        error.textContent = errorText(err);
      })
      // A challenge is good for one check-in and 30 s: a retry takes the selfie again.
      .finally(() => (liveness = null));
  });
}

async function main(): Promise<void> {
  // Said before the login form, so nobody types a password into a page that cannot check in.
  showProblem(byId('context-warning'), locationProblem(currentContext()));
  const auth = await requireLogin(['student']);
  bindLogout();
  void loadMyAttendance(auth.user.id);
  void bindStudentExcuses().catch((err: unknown) => (byId('excuse-error').textContent = errorText(err)));
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
    onSync: async (s) => {
      await listSessions(s).catch((err: unknown) => (byId('sessions-error').textContent = errorText(err)));
      if (joinedId) await join(s, joinedId).catch((err: unknown) => (byId('sessions-error').textContent = errorText(err)));
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
