/** Class photo: upload, see the proposal as boxes on the photo, keep or drop each face, confirm. */
import { apiFetch, apiJson } from '../lib/auth.js';
import { announce, byId, clockTime, errorText, h, show } from '../lib/dom.js';
import { fetchAll, jsonBody } from './fetch-all.js';
import type { Page, Subject } from './types.js';

interface SessionItem {
  id: string;
  status: string;
  startsAt: string;
  closesAt: string;
}

interface Face {
  box: { x: number; y: number; width: number; height: number };
  band: 'confident' | 'uncertain' | null;
  studentId: string | null;
  name: string | null;
  studentNumber: string | null;
  currentStatus: string | null;
  unmatchedReason: 'too-small' | 'no-match' | null;
}

interface Proposal {
  sessionId: string;
  image: { width: number; height: number };
  faces: Face[];
  summary: {
    faces: number;
    matched: number;
    unmatched: number;
    students: number;
    withoutEnrolment: number;
    alreadyPresent: number;
    truncated: boolean;
  };
}

let imageUrl: string | null = null;

async function loadSessions(subjectId: string): Promise<void> {
  const page = await apiJson<Page<SessionItem>>(`api/v1/subjects/${encodeURIComponent(subjectId)}/sessions?limit=50`);
  const open = page.items.filter((s) => s.status !== 'closed');
  byId('cp-session').replaceChildren(
    ...(open.length === 0
      ? [h('option', { value: '' }, 'No open session: a teacher opens one first')]
      : open.map((s) => h('option', { value: s.id }, `${clockTime(s.startsAt)} to ${clockTime(s.closesAt)} (${s.status})`))),
  );
}

export async function loadClassPhoto(): Promise<void> {
  const subjects = await fetchAll<Subject>('api/v1/subjects');
  const select = byId<HTMLSelectElement>('cp-subject');
  select.replaceChildren(...subjects.map((s) => h('option', { value: s.id }, `${s.code} · ${s.name}`)));
  if (subjects[0]) await loadSessions(subjects[0].id);
}

function faceLabel(f: Face): string {
  if (!f.studentId) return f.unmatchedReason === 'too-small' ? 'Too small to recognise' : 'Nobody enrolled matches';
  const sure = f.band === 'confident' ? 'sure' : 'not sure: check';
  const already = f.currentStatus === 'present' || f.currentStatus === 'late' ? `, already ${f.currentStatus}` : '';
  return `${f.name ?? 'Student'}${f.studentNumber ? ` (${f.studentNumber})` : ''}: ${sure}${already}`;
}

function renderProposal(p: Proposal, file: File): void {
  if (imageUrl) URL.revokeObjectURL(imageUrl);
  imageUrl = URL.createObjectURL(file);
  byId<HTMLImageElement>('cp-image').src = imageUrl;
  const s = p.summary;
  byId('cp-summary').textContent =
    `${s.faces} face(s) found, ${s.matched} matched, ${s.unmatched} not matched; ${s.students} students enrolled, ${s.withoutEnrolment} without a face reference.` +
    (s.truncated ? ' The detector stopped at its limit: some faces may be missing.' : '');
  // Boxes in percent of the analysed image, so they follow the photo at any displayed size.
  const boxes = p.faces.map((f, i) =>
    h('span', {
      class: `box box-${f.band ?? 'none'}`,
      'data-n': String(i + 1),
      'aria-hidden': 'true',
    }),
  );
  p.faces.forEach((f, i) => {
    const box = boxes[i] as HTMLElement;
    box.style.left = `${(f.box.x / p.image.width) * 100}%`;
    box.style.top = `${(f.box.y / p.image.height) * 100}%`;
    box.style.width = `${(f.box.width / p.image.width) * 100}%`;
    box.style.height = `${(f.box.height / p.image.height) * 100}%`;
  });
  byId('cp-stage').replaceChildren(byId('cp-image'), ...boxes);
  byId('cp-faces').replaceChildren(
    ...p.faces.map((f) =>
      h(
        'li',
        {},
        f.studentId
          ? h(
              'label',
              { class: 'check' },
              h('input', { type: 'checkbox', name: 'student', value: f.studentId, checked: f.band === 'confident' }),
              faceLabel(f),
            )
          : h('span', { class: 'muted' }, faceLabel(f)),
      ),
    ),
  );
  show(byId('cp-results'), false);
  show(byId('cp-proposal'), true);
}

export function bindClassPhoto(): void {
  byId<HTMLSelectElement>('cp-subject').addEventListener('change', (event) => {
    void loadSessions((event.target as HTMLSelectElement).value).catch((err: unknown) => (byId('cp-error').textContent = errorText(err)));
  });
  const form = byId<HTMLFormElement>('cp-form');
  let sessionId = '';
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const data = new FormData(form);
    sessionId = String(data.get('session') ?? '');
    const file = byId<HTMLInputElement>('cp-file').files?.[0];
    byId('cp-error').textContent = '';
    if (!sessionId || !file) {
      byId('cp-error').textContent = 'Choose an open session and a photo.';
      return;
    }
    const body = new FormData();
    body.append('photo', file, file.name);
    byId('cp-status').textContent = 'Looking for faces…';
    apiFetch(`api/v1/sessions/${encodeURIComponent(sessionId)}/class-photo`, { method: 'POST', body })
      .then(async (res) => {
        renderProposal((await res.json()) as Proposal, file);
        byId('cp-status').textContent = 'Proposal ready: nothing is marked until you confirm.';
      })
      .catch((err: unknown) => {
        byId('cp-status').textContent = '';
        byId('cp-error').textContent = errorText(err);
      });
  });
  const confirmForm = byId<HTMLFormElement>('cp-confirm-form');
  confirmForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const ids = new FormData(confirmForm).getAll('student').map(String);
    if (ids.length === 0) {
      byId('cp-error').textContent = 'Tick at least one student.';
      return;
    }
    const names = new Map(
      Array.from(confirmForm.querySelectorAll<HTMLInputElement>('input[name="student"]'), (b) => [
        b.value,
        b.parentElement?.textContent ?? b.value,
      ]),
    );
    apiJson<{
      results: Array<{ studentId: string; result: string; status: string | null; code: string | null }>;
      summary: { marked: number };
    }>(`api/v1/sessions/${encodeURIComponent(sessionId)}/class-photo/confirm`, jsonBody('POST', { studentIds: ids }))
      .then((answer) => {
        byId('cp-results-body').replaceChildren(
          ...answer.results.map((r) =>
            h(
              'tr',
              {},
              h('th', { scope: 'row' }, names.get(r.studentId) ?? r.studentId),
              h('td', {}, r.code ? `${r.result} (${r.code})` : r.result),
              h('td', {}, r.status ?? ''),
            ),
          ),
        );
        show(byId('cp-results'), true);
        announce(byId('cp-status'), `${answer.summary.marked} student(s) marked.`);
      })
      .catch((err: unknown) => (byId('cp-error').textContent = errorText(err)));
  });
}
