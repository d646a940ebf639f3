/**
 * Student page (phone first): list active sessions, join, share the location with its accuracy,
 * type the code (or take it from the QR link), a selfie when the policy asks, submit, and see
 * the decision live. Every reconnect joins again and replaces the held check-in.
 */
import type { CheckinView, LocationInput, SessionView } from '../shared/events.js';
import { announce, byId, clockTime, errorText, h, queryParam, reasonText, show } from './lib/dom.js';
import { bindLogout, requireLogin, showConnection } from './lib/page.js';
import { cameraProblem, currentContext, locationProblem, showProblem } from './lib/secure-context.js';
import { loadMyAttendance } from './lib/my-attendance.js';
import { captureSelfie, startCamera, stopCamera } from './lib/selfie.js';
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
  const details = [...new Set([view.reason, ...view.flags].filter((r): r is string => Boolean(r)))].map(reasonText);
  if (view.status === 'rejected') details.push(view.attemptsLeft > 0 ? `You may try again (${view.attemptsLeft} left).` : 'No attempts left; talk to your teacher.');
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
        h('span', {}, `${s.subjectCode} · ${s.subjectName}`, h('br'), h('small', {}, `${s.status}, until ${clockTime(s.closesAt)}. ${needsText(s)}`)),
        button,
      );
    }),
  );
  if (sessions.length === 0) list.append(h('li', {}, 'No open sessions for your subjects right now.'));
}

function shareLocation(): void {
  const status = byId('location-status');
  const problem = locationProblem(currentContext());
  if (problem) {
    status.textContent = problem;
    return;
  }
  status.textContent = 'Finding your location…';
  navigator.geolocation.getCurrentPosition(
    (pos) => {
      fix = { lat: pos.coords.latitude, lon: pos.coords.longitude, accuracy: Math.max(1, pos.coords.accuracy), timestamp: pos.timestamp };
      status.textContent = `Location found, accurate to about ${Math.round(pos.coords.accuracy)} m.`;
      byId('location-status').dataset['ready'] = 'true';
    },
    (err) => {
      fix = null;
      status.textContent = err.code === err.PERMISSION_DENIED ? 'Location permission was refused; allow it in the browser settings.' : `No location: ${err.message}`;
    },
    { enableHighAccuracy: true, timeout: 20_000, maximumAge: 0 },
  );
}

function bindSelfie(): void {
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
    captureSelfie(video).then(
      (bytes) => {
        selfie = bytes;
        stopCamera(video);
        byId('selfie-status').textContent = `Selfie taken (${Math.round(bytes.byteLength / 1024)} KB).`;
      },
      (err: unknown) => (byId('selfie-status').textContent = errorText(err)),
    );
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
    const wantsFix = needsLocation(session.policy);
    if (wantsFix && !fix) {
      error.textContent = locationProblem(currentContext()) ?? 'Share your location first.';
      byId('share-location').focus();
      return;
    }
    if (session.policy.selfie && !selfie) {
      error.textContent = 'Take a selfie first.';
      return;
    }
    const code = byId<HTMLInputElement>('code').value.trim();
    const submit = byId<HTMLButtonElement>('submit-checkin');
    submit.disabled = true;
    command(socket, 'checkin:submit', {
      sessionId: session.id,
      ...(wantsFix && fix ? { location: fix } : {}),
      ...(session.policy.rotatingCode ? { code } : {}),
      ...(session.policy.selfie && selfie ? { selfie } : {}),
    })
      .then((view) => {
        renderDecision(view);
        announce(byId('live'), DECISION_TEXT[view.status]);
      })
      .catch((err: unknown) => {
        submit.disabled = false;
        error.textContent = errorText(err);
      });
  });
}

async function main(): Promise<void> {
  // Said before the login form, so nobody types a password into a page that cannot check in.
  showProblem(byId('context-warning'), locationProblem(currentContext()));
  const auth = await requireLogin(['student']);
  bindLogout();
  void loadMyAttendance(auth.user.id);
  byId('my-refresh').addEventListener('click', () => void loadMyAttendance(auth.user.id));
  const linkCode = queryParam('code');
  if (linkCode) byId<HTMLInputElement>('code').value = linkCode;
  bindSelfie();
  const socket = connect({
    onState: showConnection,
    onLoggedOut: () => location.reload(),
    onSync: async (s) => {
      await listSessions(s).catch((err: unknown) => (byId('sessions-error').textContent = errorText(err)));
      if (joinedId) await join(s, joinedId).catch((err: unknown) => (byId('sessions-error').textContent = errorText(err)));
    },
  });
  bindCheckin(socket);
  byId('refresh-sessions').addEventListener('click', () => void listSessions(socket));
  socket.on('checkin:decision', (view) => {
    if (view.sessionId !== joinedId) return;
    renderDecision(view);
    announce(byId('live'), DECISION_TEXT[view.status]);
  });
  socket.on('session:status', (view) => {
    // A session of one of the student's subjects opened, changed or ended: the list follows.
    void listSessions(socket).catch((err: unknown) => (byId('sessions-error').textContent = errorText(err)));
    if (view.id !== joinedId) return;
    // Reopened: closing's absent may have been taken back, so read the check-in again.
    if (view.status === 'open' && session?.status === 'closed') void join(socket, view.id).catch((err: unknown) => (byId('checkin-error').textContent = errorText(err)));
    else renderSession(view);
  });
}

void main();
