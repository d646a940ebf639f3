/** Subjects: list and add, enrolments (by student number or CSV, bulk remove), classroom location, allowed networks. */
import { byName } from '../lib/by-name.js';
import { apiJson } from '../lib/auth.js';
import { columnValues, splitCsv } from '../lib/csv-records.js';
import { announce, byId, errorText, h, show } from '../lib/dom.js';
import { fetchAll, jsonBody } from './fetch-all.js';
import { drawGeofence } from './geofence-diagram.js';
import type { Subject, User } from './types.js';

/** Ids per enrolment request (the API takes at most 1 000). */
const IDS_MAX = 1_000;

let subjects: Subject[] = [];
let teachers = new Map<string, string>();
let current: Subject | null = null;
let ranges: string[] = [];
let accuracyM: number | null = null;

const subjectPath = (rest = '') => `api/v1/subjects/${encodeURIComponent(current?.id ?? '')}${rest ? '/' : ''}${rest}`;

function subjectRow(s: Subject): HTMLTableRowElement {
  const manage = h('button', { type: 'button', 'aria-label': `Manage ${s.code}` }, 'Manage');
  manage.addEventListener(
    'click',
    () => void openSubject(s).catch((err: unknown) => (byId('subjects-error').textContent = errorText(err))),
  );
  const names = s.teacherIds.map((id) => teachers.get(id) ?? 'unknown').join(', ');
  return h(
    'tr',
    { 'data-subject-id': s.id },
    h('th', { scope: 'row' }, s.code),
    h('td', {}, s.name),
    h('td', {}, names || 'none'),
    h('td', {}, s.location ? `${Math.round(s.location.radiusM)} m circle` : 'not set'),
    h('td', {}, s.allowedIpRanges.length > 0 ? s.allowedIpRanges.join(', ') : 'any'),
    h('td', { class: 'actions' }, manage),
  );
}

export async function loadSubjects(): Promise<void> {
  const [list, staff] = await Promise.all([fetchAll<Subject>('api/v1/subjects'), fetchAll<User>('api/v1/users?role=teacher&active=true')]);
  subjects = list;
  staff.sort(byName);
  teachers = new Map(staff.map((t) => [t.id, t.name]));
  byId('subjects-body').replaceChildren(...subjects.map(subjectRow));
  const select = byId<HTMLSelectElement>('sf-teacher');
  select.replaceChildren(h('option', { value: '' }, 'None yet'), ...staff.map((t) => h('option', { value: t.id }, t.name)));
}

async function loadStudents(): Promise<void> {
  const students = await fetchAll<User>(subjectPath('students'));
  byId('students-caption').textContent = `${students.length} enrolled student(s)`;
  byId<HTMLInputElement>('students-all').checked = false;
  byId('students-body').replaceChildren(
    ...students.map((s) =>
      h(
        'tr',
        {},
        h('td', {}, h('input', { type: 'checkbox', name: 'student', value: s.id, 'aria-label': `Choose ${s.name}` })),
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
      ? [h('li', { class: 'muted' }, 'No restriction: any network.')]
      : ranges.map((r) => {
          const remove = h('button', { type: 'button', class: 'link', 'aria-label': `Remove ${r}` }, 'Remove');
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
  for (const id of ['location-accuracy', 'location-error', 'network-error', 'net-mine-text', 'enrol-status', 'enrol-error'])
    byId(id).textContent = '';
  renderRanges();
  redraw();
  show(byId('subject-detail'), true);
  await loadStudents();
  byId('subject-detail-title').focus();
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
  if (!fromFile) throw new Error('The file has no student_number column.');
  return [...typed, ...fromFile];
}

async function enrol(form: HTMLFormElement): Promise<string> {
  const numbers = [...new Set(await numbersToEnrol(form))];
  if (numbers.length === 0) throw new Error('Type student numbers or choose a CSV file.');
  byId('enrol-status').textContent = `Looking up ${numbers.length} student number(s)…`;
  // Student numbers are the school's; the API enrols by id, so map them through the student list.
  const students = await fetchAll<User>('api/v1/users?role=student&active=true');
  const byNumber = new Map(students.filter((s) => s.studentNumber).map((s) => [s.studentNumber as string, s.id]));
  const unknown = numbers.filter((n) => !byNumber.has(n));
  const ids = numbers.flatMap((n) => byNumber.get(n) ?? []);
  let enrolled = 0;
  let total = 0;
  for (let i = 0; i < ids.length; i += IDS_MAX) {
    const answer = await apiJson<{ enrolled: number; total: number }>(
      subjectPath('enrolments'),
      jsonBody('POST', { studentIds: ids.slice(i, i + IDS_MAX) }),
    );
    enrolled += answer.enrolled;
    total = answer.total;
  }
  byId('enrol-error').textContent = unknown.length > 0 ? `No active student has these numbers: ${unknown.join(', ')}` : '';
  await loadStudents();
  return ids.length > 0 ? `Enrolled ${enrolled} new student(s); ${total} in total.` : 'Nobody was enrolled.';
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
      byId('enrol-error').textContent = 'Choose the students to remove first.';
      return;
    }
    if (!confirm(`Remove ${ids.length} student(s) from ${current?.code ?? 'the subject'}?`)) return;
    (async () => {
      let removed = 0;
      for (let i = 0; i < ids.length; i += IDS_MAX) {
        removed += (
          await apiJson<{ removed: number }>(subjectPath('enrolments'), jsonBody('DELETE', { studentIds: ids.slice(i, i + IDS_MAX) }))
        ).removed;
      }
      await loadStudents();
      announce(byId('enrol-status'), `Removed ${removed} student(s).`);
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
      byId('location-error').textContent =
        'This page cannot read the device location (it needs an https:// address). Type the coordinates instead.';
      return;
    }
    status.textContent = 'Reading this device’s location…';
    navigator.geolocation.getCurrentPosition(
      (pos) => {
        byId<HTMLInputElement>('loc-lat').value = pos.coords.latitude.toFixed(6);
        byId<HTMLInputElement>('loc-lon').value = pos.coords.longitude.toFixed(6);
        accuracyM = pos.coords.accuracy;
        const radius = Number(byId<HTMLInputElement>('loc-radius').value);
        const warn =
          accuracyM > radius / 2
            ? ' That is coarse for this radius: stand in the classroom near a window and try again, or type the coordinates.'
            : '';
        status.textContent = `Position read, accurate to ±${Math.round(accuracyM)} m.${warn} Save to keep it.`;
        redraw();
      },
      (err) => {
        status.textContent = '';
        byId('location-error').textContent =
          err.code === err.PERMISSION_DENIED
            ? 'The browser was not allowed to share the location.'
            : `The location could not be read (${err.message}).`;
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
          `Classroom location saved: ${updated.location?.radiusM ?? ''} m around ${body.lat}, ${body.lon}.`,
        );
      })
      .catch((err: unknown) => (byId('location-error').textContent = errorText(err)));
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
        if (!range) throw new Error('The server cannot tell which address this device uses.');
        add(range);
        byId('net-mine-text').textContent =
          `This device reaches the server from ${ip}; added ${range}. Save to keep it. If the school has several addresses, widen the range (e.g. /24).`;
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
          updated.allowedIpRanges.length > 0 ? `Allowed networks saved: ${updated.allowedIpRanges.join(', ')}.` : 'Saved: any network.',
        );
      })
      .catch((err: unknown) => (byId('network-error').textContent = errorText(err)));
  });
}

export function bindSubjects(): void {
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
      .catch((err: unknown) => (byId('subjects-error').textContent = errorText(err)));
  });
  bindEnrolment();
  bindLocation();
  bindNetworks();
}
