/** Face references: find a student, take or upload 1 to 5 photos, see each photo's result. */
import { ApiError, apiFetch, apiJson } from '../lib/auth.js';
import { announce, byId, errorText, h, reasonText, show } from '../lib/dom.js';
import { captureSelfie, startCamera, stopCamera } from '../lib/selfie.js';
import type { Page, User } from './types.js';

/** MAX_ENROLMENT_PHOTOS of the face routes. */
const MAX_PHOTOS = 5;

interface FaceStatus {
  enrolled: boolean;
  photoCount: number;
  updatedAt: string | null;
  proposal: { createdAt: string; photoCount: number } | null;
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
      const remove = h('button', { type: 'button', class: 'link', 'aria-label': `Remove photo ${i + 1}` }, 'Remove');
      remove.addEventListener('click', () => {
        URL.revokeObjectURL(p.url);
        photos.splice(i, 1);
        renderPhotos();
      });
      return h(
        'li',
        { class: p.refused ? 'thumb refused' : 'thumb' },
        h('img', { src: p.url, alt: `Photo ${i + 1}` }),
        h('span', { class: 'thumb-result' }, p.result || `Photo ${i + 1}`),
        remove,
      );
    }),
  );
  byId<HTMLButtonElement>('face-upload').disabled = photos.length === 0 || !student;
}

function addPhoto(blob: Blob): void {
  if (photos.length >= MAX_PHOTOS) {
    byId('face-error').textContent = `At most ${MAX_PHOTOS} photos.`;
    return;
  }
  photos.push({ blob, url: URL.createObjectURL(blob), result: '', refused: false });
  renderPhotos();
}

function statusText(s: FaceStatus): string {
  const now = s.enrolled
    ? `Reference in force: ${s.photoCount} photo(s).`
    : 'No face reference yet: selfie check-ins go to the teacher for review.';
  return s.proposal ? `${now} A proposal with ${s.proposal.photoCount} photo(s) waits for approval (Face proposals).` : now;
}

async function loadStatus(): Promise<void> {
  if (!student) return;
  const s = await apiJson<FaceStatus>(`/api/v1/users/${encodeURIComponent(student.id)}/face`);
  byId('face-status').textContent = statusText(s);
  byId<HTMLButtonElement>('face-remove').disabled = !s.enrolled;
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
  void loadStatus().catch((err: unknown) => (byId('face-error').textContent = errorText(err)));
}

async function upload(): Promise<void> {
  if (!student) return;
  const form = new FormData();
  photos.forEach((p, i) => form.append('photos', p.blob, `photo-${i + 1}.jpg`));
  try {
    const res = await apiFetch(`/api/v1/users/${encodeURIComponent(student.id)}/face`, { method: 'PUT', body: form });
    const answer = (await res.json()) as { outcome: 'enrolled' | 'proposed'; status: FaceStatus };
    for (const p of photos) Object.assign(p, { result: 'Used', refused: false });
    renderPhotos();
    byId('face-status').textContent = statusText(answer.status);
    announce(
      byId('live'),
      answer.outcome === 'enrolled' ? `The face reference of ${student.name} is set.` : 'The photos wait for approval.',
    );
  } catch (err) {
    const refused = err instanceof ApiError ? err.body.details?.['photos'] : undefined;
    if (Array.isArray(refused)) {
      const byIndex = new Map((refused as Array<{ index: number; reason: string; message?: string }>).map((r) => [r.index, r]));
      photos.forEach((p, i) => {
        const r = byIndex.get(i);
        Object.assign(
          p,
          r
            ? { result: `Refused: ${r.message ?? reasonText(r.reason)}`, refused: true }
            : { result: 'Fine (nothing stored)', refused: false },
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
    apiJson<Page<User>>(`/api/v1/users?role=student&active=true&limit=20&q=${encodeURIComponent(q)}`)
      .then((page) => {
        byId('face-results').replaceChildren(
          ...(page.items.length === 0
            ? [h('li', {}, 'No student matches.')]
            : page.items.map((u) => {
                const pick = h('button', { type: 'button', 'aria-label': `Choose ${u.name}` }, 'Choose');
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
      byId('face-camera').textContent = 'Start the camera';
      show(byId('face-snap'), false);
      return;
    }
    startCamera(video)
      .then(() => {
        byId('face-camera').textContent = 'Stop the camera';
        show(byId('face-snap'), true);
      })
      .catch((err: unknown) => (byId('face-error').textContent = `The camera did not start: ${errorText(err)}`));
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
  byId('face-remove').addEventListener('click', () => {
    if (!student || !confirm(`Remove the face reference of ${student.name}?`)) return;
    apiFetch(`/api/v1/users/${encodeURIComponent(student.id)}/face`, { method: 'DELETE' })
      .then(() => loadStatus())
      .catch((err: unknown) => (byId('face-error').textContent = errorText(err)));
  });
}
