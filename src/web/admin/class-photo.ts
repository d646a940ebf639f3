/** Class photo: upload, see the proposal as boxes on the photo, keep or drop each face, confirm. */
import { ROSTER_STATUSES, type RosterStatus } from '../../shared/events.js';
import { apiFetch, apiJson } from '../lib/auth.js';
import { announce, byId, clockTime, errorText, h, show } from '../lib/dom.js';
import { at } from '../lib/admin-text.js';
import { formatNumber } from '../lib/i18n.js';

import { statusLabel } from '../lib/staff-text.js';
import { fetchAll, jsonBody } from './fetch-all.js';
import type { Page, Subject } from './types.js';
import { t } from '../lib/pages-text.js';

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
      ? [h('option', { value: '' }, at('classPhoto.noSession'))]
      : open.map((s) =>
          h(
            'option',
            { value: s.id },
            at('classPhoto.sessionItem', { from: clockTime(s.startsAt), to: clockTime(s.closesAt), status: sessionStatus(s.status) }),
          ),
        )),
  );
}

export async function loadClassPhoto(): Promise<void> {
  const subjects = await fetchAll<Subject>('api/v1/subjects');
  const select = byId<HTMLSelectElement>('cp-subject');
  select.replaceChildren(...subjects.map((s) => h('option', { value: s.id }, `${s.code} · ${s.name}`)));
  if (subjects[0]) await loadSessions(subjects[0].id);
}

const SESSION_STATUSES = ['scheduled', 'open', 'closing', 'closed', 'cancelled'] as const;
const RESULTS = ['marked', 'unchanged', 'refused'] as const;
const isOneOf = <T extends string>(list: readonly T[], value: string | null): value is T =>
  (list as readonly (string | null)[]).includes(value);

/** A session's status as the shared catalog words it; one it does not know as the server sent it. */
const sessionStatus = (status: string): string => (isOneOf(SESSION_STATUSES, status) ? t(`session.${status}`) : status);
const resultText = (result: string): string => (isOneOf(RESULTS, result) ? at(`classPhoto.result.${result}`) : result);
const rosterStatus = (status: string | null): string =>
  isOneOf<RosterStatus>(ROSTER_STATUSES, status) ? statusLabel(status) : (status ?? '');

function faceLabel(f: Face): string {
  if (!f.studentId) return at(f.unmatchedReason === 'too-small' ? 'classPhoto.tooSmall' : 'classPhoto.noMatch');
  const who = `${f.name ?? at('classPhoto.someone')}${f.studentNumber ? ` (${f.studentNumber})` : ''}`;
  const sure = f.band === 'confident';
  if (f.currentStatus === 'present' || f.currentStatus === 'late')
    return at(sure ? 'classPhoto.sureAlready' : 'classPhoto.notSureAlready', { who, status: statusLabel(f.currentStatus) });
  return at(sure ? 'classPhoto.sure' : 'classPhoto.notSure', { who });
}

function renderProposal(p: Proposal, file: File): void {
  if (imageUrl) URL.revokeObjectURL(imageUrl);
  imageUrl = URL.createObjectURL(file);
  byId<HTMLImageElement>('cp-image').src = imageUrl;
  const s = p.summary;
  byId('cp-summary').textContent =
    at('classPhoto.summary', {
      faces: at('classPhoto.faces', { count: s.faces }),
      matched: formatNumber(s.matched),
      unmatched: formatNumber(s.unmatched),
      students: at('classPhoto.students', { count: s.students }),
      without: formatNumber(s.withoutEnrolment),
    }) + (s.truncated ? ` ${at('classPhoto.truncated')}` : '');
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
      byId('cp-error').textContent = at('classPhoto.chooseBoth');
      return;
    }
    const body = new FormData();
    body.append('photo', file, file.name);
    byId('cp-status').textContent = at('classPhoto.looking');
    apiFetch(`api/v1/sessions/${encodeURIComponent(sessionId)}/class-photo`, { method: 'POST', body })
      .then(async (res) => {
        renderProposal((await res.json()) as Proposal, file);
        byId('cp-status').textContent = at('classPhoto.ready');
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
      byId('cp-error').textContent = at('classPhoto.tickOne');
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
              h('td', {}, r.code ? `${resultText(r.result)} (${r.code})` : resultText(r.result)),
              h('td', {}, rosterStatus(r.status)),
            ),
          ),
        );
        show(byId('cp-results'), true);
        announce(byId('cp-status'), at('classPhoto.marked', { count: answer.summary.marked }));
      })
      .catch((err: unknown) => (byId('cp-error').textContent = errorText(err)));
  });
}
