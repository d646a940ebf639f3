/** Subjects: list and add, enrolments (by student number or CSV, bulk remove), classroom location, allowed networks. */
import { byName } from '../lib/by-name.js';
import { ApiError, apiJson } from '../lib/auth.js';
import { columnValues, splitCsv } from '../lib/csv-records.js';
import { announce, byId, errorText, h, show } from '../lib/dom.js';
import { at } from '../lib/admin-text.js';
import { formatNumber } from '../lib/i18n.js';
import { fetchAll, jsonBody } from './fetch-all.js';
import { drawGeofence } from './geofence-diagram.js';
import type { Subject, User } from './types.js';
import { archivedShown, bindSubjectArchive, pickCell, picked } from './subject-archive.js';
import { bindSubjectRollover } from './subject-rollover.js';

/** Ids per enrolment request (the API takes at most 1 000). */
const IDS_MAX = 1_000;
/** The longest student number the API keeps (the user form's maxlength too). */
const STUDENT_NUMBER_MAX = 64;

let subjects: Subject[] = [];
/** Every teacher by id, deactivated ones too: a subject may still list one. */
let teachers = new Map<string, { name: string; active: boolean }>();

/** A teacher as the pages show them: deactivated ones say so. */
function teacherLabel(id: string): string {
  const t = teachers.get(id);
  if (!t) return at('subjects.unknownTeacher');
  return t.active ? t.name : at('subjects.deactivated', { name: t.name });
}
let current: Subject | null = null;
let ranges: string[] = [];
let accuracyM: number | null = null;

const subjectPath = (rest = '') => `api/v1/subjects/${encodeURIComponent(current?.id ?? '')}${rest ? '/' : ''}${rest}`;

function subjectRow(s: Subject): HTMLTableRowElement {
  const manage = h('button', { type: 'button', 'aria-label': at('subjects.manageOf', { code: s.code }) }, at('subjects.manage'));
  manage.addEventListener(
    'click',
    () => void openSubject(s).catch((err: unknown) => (byId('subjects-error').textContent = errorText(err))),
  );
  const names = s.teacherIds.map(teacherLabel).join(', ');
  return h(
    'tr',
    { 'data-subject-id': s.id },
    h('th', { scope: 'row' }, s.code),
    h('td', {}, s.name),
    h('td', {}, names || at('subjects.none')),
    h('td', {}, s.location ? at('subjects.circle', { radius: formatNumber(Math.round(s.location.radiusM)) }) : at('subjects.notSet')),
    h('td', {}, s.allowedIpRanges.length > 0 ? s.allowedIpRanges.join(', ') : at('subjects.anyNetwork')),
    h('td', { class: 'actions' }, manage),
    // Last, so the columns before keep their places.
    pickCell(s),
  );
}

export async function loadSubjects(): Promise<void> {
  const [list, staff] = await Promise.all([
    fetchAll<Subject>(`api/v1/subjects?archived=${archivedShown()}`),
    fetchAll<User>('api/v1/users?role=teacher'),
  ]);
  subjects = list;
  staff.sort(byName);
  teachers = new Map(staff.map((t) => [t.id, { name: t.name, active: t.active }]));
  byId('subjects-body').replaceChildren(...subjects.map(subjectRow));
  const select = byId<HTMLSelectElement>('sf-teacher');
  select.replaceChildren(
    h('option', { value: '' }, at('subjects.noneYet')),
    ...staff.filter((t) => t.active).map((t) => h('option', { value: t.id }, t.name)),
  );
}

async function loadStudents(): Promise<void> {
  const students = await fetchAll<User>(subjectPath('students'));
  byId('students-caption').textContent = at('subjects.enrolledCaption', { count: students.length });
  byId<HTMLInputElement>('students-all').checked = false;
  byId('students-body').replaceChildren(
    ...students.map((s) =>
      h(
        'tr',
        {},
        h('td', {}, h('input', { type: 'checkbox', name: 'student', value: s.id, 'aria-label': at('subjects.choose', { name: s.name }) })),
        h('th', { scope: 'row' }, s.name),
        h('td', {}, s.studentNumber ?? ''),
        h('td', { class: 'wrap' }, s.email),
      ),
    ),
  );
}

function renderRanges(): void {
  byId('network-list').replaceChildren(
    ...(ranges.length === 0
      ? [h('li', { class: 'muted' }, at('subjects.noRestriction'))]
      : ranges.map((r) => {
          const remove = h(
            'button',
            { type: 'button', class: 'link', 'aria-label': at('subjects.removeRange', { range: r }) },
            at('subjects.remove'),
          );
          remove.addEventListener('click', () => {
            ranges = ranges.filter((x) => x !== r);
            renderRanges();
          });
          return h('li', {}, h('code', {}, r), ' ', remove);
        })),
  );
}

function redraw(): void {
  const radius = Number(byId<HTMLInputElement>('loc-radius').value);
  const hasCentre = byId<HTMLInputElement>('loc-lat').value !== '' && byId<HTMLInputElement>('loc-lon').value !== '';
  drawGeofence(byId('geofence-diagram') as unknown as SVGSVGElement, hasCentre ? radius : null, accuracyM);
}

async function openSubject(s: Subject): Promise<void> {
  current = s;
  ranges = [...s.allowedIpRanges];
  accuracyM = null;
  byId('subject-detail-title').textContent = `${s.code} · ${s.name}`;
  byId<HTMLInputElement>('loc-lat').value = s.location ? String(s.location.lat) : '';
  byId<HTMLInputElement>('loc-lon').value = s.location ? String(s.location.lon) : '';
  byId<HTMLInputElement>('loc-radius').value = String(s.location?.radiusM ?? 100);
  for (const id of [
    'location-accuracy',
    'location-error',
    'network-error',
    'net-mine-text',
    'enrol-status',
    'enrol-error',
    'teachers-status',
    'teachers-error',
  ])
    byId(id).textContent = '';
  fillTeachers(s);
  renderRanges();
  redraw();
  show(byId('subject-detail'), true);
  await loadStudents();
  byId('subject-detail-title').focus();
}

/** The teachers form for `s`: its first teacher (or none) and the others chosen. */
function fillTeachers(s: Subject): void {
  const option = (id: string, name: string, selected: boolean) => {
    const o = h('option', { value: id }, name);
    o.selected = selected;
    return o;
  };
  const [first, ...others] = s.teacherIds;
  // Active teachers, and the subject's own even when deactivated, so that saving keeps them
  // unless the admin unselects them.
  const offered = [...teachers].filter(([id, t]) => t.active || s.teacherIds.includes(id)).map(([id]) => id);
  byId<HTMLSelectElement>('teachers-first').replaceChildren(
    option('', at('subjects.noTeacher'), first === undefined),
    ...offered.map((id) => option(id, teacherLabel(id), id === first)),
  );
  byId<HTMLSelectElement>('teachers-more').replaceChildren(...offered.map((id) => option(id, teacherLabel(id), others.includes(id))));
}

/**
 * The question for a double-booked first teacher (409 TEACHER_DOUBLE_BOOKED): who, which
 * subjects of theirs, and the meetings or the days of the sessions they would take over.
 */
function doubleBookedQuestion(err: ApiError): string {
  const details = err.body.details ?? {};
  const who = teachers.get(String(details['teacherId'] ?? ''))?.name ?? at('subjects.newFirstTeacher');
  const codes = ((details['subjectIds'] ?? []) as string[]).map(
    (id) => subjects.find((s) => s.id === id)?.code ?? at('subjects.anotherSubject'),
  );
  const days = [...new Set(((details['clashes'] ?? []) as { day: string }[]).map((c) => c.day))];
  return days.length > 0
    ? at('subjects.doubleBookedSessions', { who, codes: codes.join(', '), days: days.join(', ') })
    : at('subjects.doubleBookedMeetings', { who, codes: codes.join(', ') });
}

/** PATCHes the teachers; a double-booked first teacher is put to the admin once, and sent again confirmed. */
async function saveTeachers(teacherIds: string[]): Promise<Subject> {
  const body = { teacherIds };
  try {
    return await apiJson<Subject>(subjectPath(), jsonBody('PATCH', body));
  } catch (err) {
    if (!(err instanceof ApiError) || err.code !== 'TEACHER_DOUBLE_BOOKED' || !confirm(doubleBookedQuestion(err))) throw err;
    return apiJson<Subject>(subjectPath(), jsonBody('PATCH', { ...body, teacherOverlap: true }));
  }
}

function bindTeachers(): void {
  byId<HTMLFormElement>('teachers-form').addEventListener('submit', (event) => {
    event.preventDefault();
    byId('teachers-error').textContent = '';
    byId('teachers-status').textContent = '';
    const first = byId<HTMLSelectElement>('teachers-first').value;
    const more = [...byId<HTMLSelectElement>('teachers-more').selectedOptions].map((o) => o.value).filter((id) => id !== first);
    saveTeachers(first ? [first, ...more] : more)
      .then((updated) => {
        replaceCurrent(updated);
        fillTeachers(updated);
        announce(byId('teachers-status'), at('subjects.teachersSaved'));
      })
      .catch((err: unknown) => (byId('teachers-error').textContent = errorText(err)));
  });
}

function replaceCurrent(updated: Subject): void {
  current = updated;
  subjects = subjects.map((s) => (s.id === updated.id ? updated : s));
  byId('subjects-body').replaceChildren(...subjects.map(subjectRow));
}

/** Student numbers typed in the box and from the CSV file's student_number column. */
async function numbersToEnrol(form: HTMLFormElement): Promise<string[]> {
  const typed = String(new FormData(form).get('numbers') ?? '')
    .split(/[\s,;]+/)
    .map((n) => n.trim())
    .filter(Boolean);
  const chosen = byId<HTMLInputElement>('enrol-file').files?.[0];
  if (!chosen) return typed;
  const fromFile = columnValues(splitCsv(await chosen.text()), 'student_number');
  if (!fromFile) throw new Error(at('subjects.noNumberColumn'));
  return [...typed, ...fromFile];
}

/**
 * One request's students enrolled, those the server refused added to `refused`: the store's
 * refusals (`refusedStudentIds`), or a student deactivated or erased since the lookup, which
 * refuses the whole request (VALIDATION_FAILED naming them): sent again without them.
 */
async function enrolChunk(ids: string[], refused: Set<string>): Promise<{ enrolled: number; total: number | null }> {
  let left = ids;
  // Each refusal takes at least one student out: the loop ends.
  while (left.length > 0) {
    try {
      const answer = await apiJson<{ enrolled: number; total: number; refusedStudentIds?: string[] }>(
        subjectPath('enrolments'),
        jsonBody('POST', { studentIds: left }),
      );
      for (const id of answer.refusedStudentIds ?? []) refused.add(id);
      return answer;
    } catch (err) {
      const details = err instanceof ApiError && err.code === 'VALIDATION_FAILED' ? err.body.details : undefined;
      const named = [details?.['deactivatedStudentIds'], details?.['unknownStudentIds']].flatMap((v) =>
        Array.isArray(v) ? (v as string[]) : [],
      );
      const out = new Set(named.filter((id) => left.includes(id)));
      if (out.size === 0) throw err;
      for (const id of out) refused.add(id);
      left = left.filter((id) => !out.has(id));
    }
  }
  return { enrolled: 0, total: null };
}

async function enrol(form: HTMLFormElement): Promise<string> {
  const numbers = [...new Set(await numbersToEnrol(form))];
  if (numbers.length === 0) throw new Error(at('subjects.typeNumbers'));
  byId('enrol-status').textContent = at('subjects.lookingUp', { count: numbers.length });
  // Student numbers are the school's; the API enrols by id, so the server maps these numbers
  // (a class, not the whole school's list of students) to their active students.
  const byNumber = new Map<string, User>();
  // Longer than any number the server keeps: unknown, and not asked about (the API would refuse the whole request).
  const askable = numbers.filter((n) => n.length <= STUDENT_NUMBER_MAX);
  for (let i = 0; i < askable.length; i += IDS_MAX) {
    const found = await apiJson<{ items: User[] }>(
      'api/v1/users/by-student-number',
      jsonBody('POST', { studentNumbers: askable.slice(i, i + IDS_MAX) }),
    );
    for (const s of found.items) if (s.role === 'student' && s.active && s.studentNumber) byNumber.set(s.studentNumber, s);
  }
  const unknown = numbers.filter((n) => !byNumber.has(n));
  const students = numbers.flatMap((n) => byNumber.get(n) ?? []);
  const ids = students.map((s) => s.id);
  let enrolled = 0;
  let total = 0;
  const refused = new Set<string>();
  for (let i = 0; i < ids.length; i += IDS_MAX) {
    const answer = await enrolChunk(ids.slice(i, i + IDS_MAX), refused);
    enrolled += answer.enrolled;
    total = answer.total ?? total;
  }
  // Active when looked up, deactivated or erased before the enrolment: the answers name them by
  // id only, the lookup by name and number.
  const refusedNames = students.filter((s) => refused.has(s.id)).map((s) => `${s.name} (${s.studentNumber})`);
  byId('enrol-error').textContent = [
    unknown.length > 0 ? at('subjects.unknownNumbers', { numbers: unknown.join(', ') }) : '',
    refusedNames.length > 0 ? at('subjects.refusedStudents', { students: refusedNames.join(', ') }) : '',
  ]
    .filter(Boolean)
    .join(' ');
  await loadStudents();
  return ids.length > 0 ? at('subjects.enrolled', { count: enrolled, total: formatNumber(total) }) : at('subjects.nobodyEnrolled');
}

function bindEnrolment(): void {
  const form = byId<HTMLFormElement>('enrol-form');
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    byId('enrol-error').textContent = '';
    enrol(form)
      .then((text) => {
        form.reset();
        announce(byId('enrol-status'), text);
      })
      .catch((err: unknown) => {
        byId('enrol-status').textContent = '';
        byId('enrol-error').textContent = errorText(err);
      });
  });
  byId<HTMLInputElement>('students-all').addEventListener('change', (event) => {
    const on = (event.target as HTMLInputElement).checked;
    byId('students-body')
      .querySelectorAll<HTMLInputElement>('input[name="student"]')
      .forEach((box) => (box.checked = on));
  });
  byId('unenrol').addEventListener('click', () => {
    const ids = Array.from(byId('students-body').querySelectorAll<HTMLInputElement>('input[name="student"]:checked'), (b) => b.value);
    if (ids.length === 0) {
      byId('enrol-error').textContent = at('subjects.chooseToRemove');
      return;
    }
    if (!confirm(at('subjects.confirmRemove', { count: ids.length, subject: current?.code ?? at('subjects.theSubject') }))) return;
    (async () => {
      let removed = 0;
      for (let i = 0; i < ids.length; i += IDS_MAX) {
        removed += (
          await apiJson<{ removed: number }>(subjectPath('enrolments'), jsonBody('DELETE', { studentIds: ids.slice(i, i + IDS_MAX) }))
        ).removed;
      }
      await loadStudents();
      announce(byId('enrol-status'), at('subjects.removed', { count: removed }));
    })().catch((err: unknown) => (byId('enrol-error').textContent = errorText(err)));
  });
}

function bindLocation(): void {
  const form = byId<HTMLFormElement>('location-form');
  for (const id of ['loc-lat', 'loc-lon', 'loc-radius']) byId(id).addEventListener('input', redraw);
  byId('use-location').addEventListener('click', () => {
    const status = byId('location-accuracy');
    byId('location-error').textContent = '';
    if (!window.isSecureContext || !('geolocation' in navigator)) {
      byId('location-error').textContent = at('subjects.noHttps');
      return;
    }
    status.textContent = at('subjects.reading');
    navigator.geolocation.getCurrentPosition(
      (pos) => {
        byId<HTMLInputElement>('loc-lat').value = pos.coords.latitude.toFixed(6);
        byId<HTMLInputElement>('loc-lon').value = pos.coords.longitude.toFixed(6);
        accuracyM = pos.coords.accuracy;
        const radius = Number(byId<HTMLInputElement>('loc-radius').value);
        status.textContent = at(accuracyM > radius / 2 ? 'subjects.readCoarse' : 'subjects.read', {
          accuracy: formatNumber(Math.round(accuracyM)),
        });
        redraw();
      },
      (err) => {
        status.textContent = '';
        byId('location-error').textContent =
          err.code === err.PERMISSION_DENIED ? at('subjects.denied') : at('subjects.unreadable', { reason: err.message });
      },
      { enableHighAccuracy: true, timeout: 20_000, maximumAge: 0 },
    );
  });
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const body = { lat: Number(data.get('lat')), lon: Number(data.get('lon')), radiusM: Number(data.get('radiusM')) };
    byId('location-error').textContent = '';
    apiJson<Subject>(subjectPath('location'), jsonBody('PUT', body))
      .then((updated) => {
        replaceCurrent(updated);
        announce(
          byId('location-accuracy'),
          at('subjects.locationSaved', {
            radius: formatNumber(updated.location?.radiusM ?? 0),
            lat: String(body.lat),
            lon: String(body.lon),
          }),
        );
      })
      .catch((err: unknown) => (byId('location-error').textContent = errorText(err, byId('location-form'))));
  });
}

function bindNetworks(): void {
  const input = byId<HTMLInputElement>('net-range');
  const add = (range: string) => {
    if (range && !ranges.includes(range)) ranges.push(range);
    renderRanges();
  };
  byId('net-add').addEventListener('click', () => {
    add(input.value.trim());
    input.value = '';
  });
  byId('net-mine').addEventListener('click', () => {
    apiJson<{ ip: string | null; range: string | null }>('api/v1/me/network')
      .then(({ ip, range }) => {
        if (!range) throw new Error(at('subjects.noAddress'));
        add(range);
        byId('net-mine-text').textContent = at('subjects.mine', { ip: ip ?? '', range });
      })
      .catch((err: unknown) => (byId('network-error').textContent = errorText(err)));
  });
  byId<HTMLFormElement>('network-form').addEventListener('submit', (event) => {
    event.preventDefault();
    byId('network-error').textContent = '';
    apiJson<Subject>(subjectPath('network'), jsonBody('PUT', { allowedIpRanges: ranges }))
      .then((updated) => {
        replaceCurrent(updated);
        announce(
          byId('net-mine-text'),
          updated.allowedIpRanges.length > 0
            ? at('subjects.networksSaved', { ranges: updated.allowedIpRanges.join(', ') })
            : at('subjects.anyNetworkSaved'),
        );
      })
      .catch((err: unknown) => (byId('network-error').textContent = errorText(err, byId('network-form'))));
  });
}

export function bindSubjects(): void {
  bindSubjectArchive(loadSubjects);
  bindSubjectRollover(picked, loadSubjects);
  const form = byId<HTMLFormElement>('subject-form');
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const teacher = String(data.get('teacher') ?? '');
    const body = {
      code: String(data.get('code') ?? '').trim(),
      name: String(data.get('name') ?? '').trim(),
      ...(teacher ? { teacherIds: [teacher] } : {}),
    };
    byId('subjects-error').textContent = '';
    apiJson<Subject>('api/v1/subjects', jsonBody('POST', body))
      .then(async (created) => {
        form.reset();
        await loadSubjects();
        await openSubject(created);
      })
      .catch((err: unknown) => (byId('subjects-error').textContent = errorText(err, form)));
  });
  bindEnrolment();
  bindTeachers();
  bindLocation();
  bindNetworks();
}
