/**
 * Face references: find a student, record or withdraw their guardian's consent (docs/privacy.md),
 * take or upload 1 to 5 photos, see each photo's result.
 */
import { ApiError, apiFetch, apiJson } from '../lib/auth.js';
import { announce, byId, dateTime, errorText, h, show } from '../lib/dom.js';
import { at } from '../lib/admin-text.js';
import { formatNumber } from '../lib/i18n.js';
import { jsonBody } from './fetch-all.js';
import { captureSelfie, startCamera, stopCamera } from '../lib/selfie.js';
import type { Page, User } from './types.js';
import { reasonText } from '../lib/pages-text.js';

/** MAX_ENROLMENT_PHOTOS of the face routes. */
const MAX_PHOTOS = 5;

interface FaceStatus {
  enrolled: boolean;
  photoCount: number;
  updatedAt: string | null;
  proposal: { createdAt: string; photoCount: number } | null;
}

interface Consent {
  textVersion: string;
  givenBy: 'student' | 'guardian';
  guardianName: string | null;
  givenAt: string;
  withdrawnAt: string | null;
}

interface Photo {
  blob: Blob;
  url: string;
  result: string;
  refused: boolean;
}

let student: User | null = null;
let photos: Photo[] = [];

function renderPhotos(): void {
  byId('face-photos').replaceChildren(
    ...photos.map((p, i) => {
      const remove = h(
        'button',
        { type: 'button', class: 'link', 'aria-label': at('faces.removePhotoN', { n: formatNumber(i + 1) }) },
        at('faces.removePhoto'),
      );
      remove.addEventListener('click', () => {
        URL.revokeObjectURL(p.url);
        photos.splice(i, 1);
        renderPhotos();
      });
      return h(
        'li',
        { class: p.refused ? 'thumb refused' : 'thumb' },
        h('img', { src: p.url, alt: at('faces.photoN', { n: formatNumber(i + 1) }) }),
        h('span', { class: 'thumb-result' }, p.result || at('faces.photoN', { n: formatNumber(i + 1) })),
        remove,
      );
    }),
  );
  byId<HTMLButtonElement>('face-upload').disabled = photos.length === 0 || !student;
}

function addPhoto(blob: Blob): void {
  if (photos.length >= MAX_PHOTOS) {
    byId('face-error').textContent = at('faces.atMost', { max: formatNumber(MAX_PHOTOS) });
    return;
  }
  photos.push({ blob, url: URL.createObjectURL(blob), result: '', refused: false });
  renderPhotos();
}

function statusText(s: FaceStatus): string {
  const now = s.enrolled ? at('faces.inForce', { count: s.photoCount }) : at('faces.noReference');
  return s.proposal ? `${now} ${at('faces.proposalWaits', { count: s.proposal.photoCount })}` : now;
}

async function loadStatus(): Promise<void> {
  if (!student) return;
  const s = await apiJson<FaceStatus>(`api/v1/users/${encodeURIComponent(student.id)}/face`);
  byId('face-status').textContent = statusText(s);
  byId<HTMLButtonElement>('face-remove').disabled = !s.enrolled;
}

function consentText(c: Consent): string {
  const when = dateTime(c.givenAt);
  return c.givenBy === 'guardian'
    ? at('faces.byGuardian', { name: c.guardianName ?? '', when, version: c.textVersion })
    : at('faces.byStudent', { when, version: c.textVersion });
}

async function loadConsent(): Promise<void> {
  if (!student) return;
  const { items } = await apiJson<{ items: Consent[] }>(`api/v1/users/${encodeURIComponent(student.id)}/consents`);
  const standing = items.filter((c) => c.withdrawnAt === null);
  const last = items.at(-1);
  byId('consent-status').textContent =
    standing.length > 0
      ? at('faces.consentInForce', { consents: standing.map(consentText).join('; ') })
      : last
        ? at('faces.consentWithdrawn', { consent: consentText(last), when: dateTime(last.withdrawnAt) })
        : at('faces.noConsent');
  show(byId('consent-form'), standing.length === 0);
  show(byId('consent-withdraw'), standing.length > 0);
}

function choose(user: User): void {
  student = user;
  for (const p of photos) URL.revokeObjectURL(p.url);
  photos = [];
  renderPhotos();
  byId('face-student-name').textContent = `${user.name}${user.studentNumber ? ` (${user.studentNumber})` : ''}`;
  byId('face-error').textContent = '';
  show(byId('face-student'), true);
  byId('face-student-name').focus();
  byId('consent-error').textContent = '';
  byId<HTMLFormElement>('consent-form').reset();
  void loadStatus().catch((err: unknown) => (byId('face-error').textContent = errorText(err)));
  void loadConsent().catch((err: unknown) => (byId('consent-error').textContent = errorText(err)));
}

async function upload(): Promise<void> {
  if (!student) return;
  const form = new FormData();
  photos.forEach((p, i) => form.append('photos', p.blob, `photo-${i + 1}.jpg`));
  try {
    const res = await apiFetch(`api/v1/users/${encodeURIComponent(student.id)}/face`, { method: 'PUT', body: form });
    const answer = (await res.json()) as { outcome: 'enrolled' | 'proposed'; status: FaceStatus };
    for (const p of photos) Object.assign(p, { result: at('faces.used'), refused: false });
    renderPhotos();
    byId('face-status').textContent = statusText(answer.status);
    announce(byId('live'), answer.outcome === 'enrolled' ? at('faces.set', { name: student.name }) : at('faces.waits'));
  } catch (err) {
    const refused = err instanceof ApiError ? err.body.details?.['photos'] : undefined;
    if (Array.isArray(refused)) {
      const byIndex = new Map((refused as Array<{ index: number; reason: string; message?: string }>).map((r) => [r.index, r]));
      photos.forEach((p, i) => {
        const r = byIndex.get(i);
        Object.assign(
          p,
          r
            ? { result: at('faces.refused', { reason: r.message ?? reasonText(r.reason) }), refused: true }
            : { result: at('faces.fine'), refused: false },
        );
      });
      renderPhotos();
    }
    throw err;
  }
}

export function bindFaces(): void {
  const search = byId<HTMLFormElement>('face-search');
  search.addEventListener('submit', (event) => {
    event.preventDefault();
    const q = String(new FormData(search).get('q') ?? '').trim();
    apiJson<Page<User>>(`api/v1/users?role=student&active=true&limit=20&q=${encodeURIComponent(q)}`)
      .then((page) => {
        byId('face-results').replaceChildren(
          ...(page.items.length === 0
            ? [h('li', {}, at('faces.noMatch'))]
            : page.items.map((u) => {
                const pick = h('button', { type: 'button', 'aria-label': at('faces.chooseOf', { name: u.name }) }, at('faces.choose'));
                pick.addEventListener('click', () => choose(u));
                return h('li', {}, `${u.name} ${u.studentNumber ?? ''} `, pick);
              })),
        );
      })
      .catch((err: unknown) => (byId('face-error').textContent = errorText(err)));
  });
  byId<HTMLInputElement>('face-files').addEventListener('change', (event) => {
    const input = event.target as HTMLInputElement;
    for (const file of Array.from(input.files ?? [])) addPhoto(file);
    input.value = '';
  });
  const video = byId<HTMLVideoElement>('face-video');
  byId('face-camera').addEventListener('click', () => {
    if (video.srcObject) {
      stopCamera(video);
      byId('face-camera').textContent = at('faces.startCamera');
      show(byId('face-snap'), false);
      return;
    }
    startCamera(video)
      .then(() => {
        byId('face-camera').textContent = at('faces.stopCamera');
        show(byId('face-snap'), true);
      })
      .catch((err: unknown) => (byId('face-error').textContent = at('faces.cameraFailed', { reason: errorText(err) })));
  });
  byId('face-snap').addEventListener('click', () => {
    captureSelfie(video)
      .then((bytes) => addPhoto(new Blob([bytes as BlobPart], { type: 'image/jpeg' })))
      .catch((err: unknown) => (byId('face-error').textContent = errorText(err)));
  });
  byId('face-upload').addEventListener('click', () => {
    byId('face-error').textContent = '';
    upload().catch((err: unknown) => (byId('face-error').textContent = errorText(err)));
  });
  const consentForm = byId<HTMLFormElement>('consent-form');
  consentForm.addEventListener('submit', (event) => {
    event.preventDefault();
    if (!student) return;
    const data = new FormData(consentForm);
    const body = {
      givenBy: 'guardian',
      guardianName: String(data.get('guardianName') ?? '').trim(),
      textVersion: String(data.get('textVersion') ?? '').trim(),
    };
    byId('consent-error').textContent = '';
    const name = student.name;
    apiJson(`api/v1/users/${encodeURIComponent(student.id)}/consents`, jsonBody('POST', body))
      .then(async () => {
        consentForm.reset();
        await loadConsent();
        announce(byId('live'), at('faces.consentRecorded', { name }));
      })
      .catch((err: unknown) => (byId('consent-error').textContent = errorText(err)));
  });
  byId('consent-withdraw').addEventListener('click', () => {
    if (!student) return;
    const name = student.name;
    if (!confirm(at('faces.confirmWithdraw', { name }))) return;
    byId('consent-error').textContent = '';
    apiJson<{ faceDeleted: boolean }>(`api/v1/users/${encodeURIComponent(student.id)}/consents`, { method: 'DELETE' })
      .then(async (result) => {
        await Promise.all([loadConsent(), loadStatus()]);
        announce(byId('live'), at(result.faceDeleted ? 'faces.withdrawnDeleted' : 'faces.withdrawn', { name }));
      })
      .catch((err: unknown) => (byId('consent-error').textContent = errorText(err)));
  });
  byId('face-remove').addEventListener('click', () => {
    if (!student || !confirm(at('faces.confirmRemove', { name: student.name }))) return;
    apiFetch(`api/v1/users/${encodeURIComponent(student.id)}/face`, { method: 'DELETE' })
      .then(() => loadStatus())
      .catch((err: unknown) => (byId('face-error').textContent = errorText(err)));
  });
}
