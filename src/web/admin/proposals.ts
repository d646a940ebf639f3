/** Face proposals: see the proposed photos and how they compare with the reference in force, approve or reject. */
import { apiFetch, apiJson } from '../lib/auth.js';
import { announce, byId, errorText, h } from '../lib/dom.js';

interface Proposal {
  userId: string;
  studentName: string;
  studentNumber: string | null;
  proposerName: string;
  proposerRole: string | null;
  createdAt: string;
  photoCount: number;
  matchesCurrent: 'confident' | 'uncertain' | 'mismatch' | null;
}

const MATCH_TEXT: Record<NonNullable<Proposal['matchesCurrent']> | 'none', string> = {
  confident: 'Same person as the reference in force.',
  uncertain: 'Maybe the same person as the reference in force: look closely.',
  mismatch: 'Another person than the reference in force!',
  none: 'No reference in force to compare with.',
};

const photoUrls: string[] = [];

/** The photos come with the bearer token, so they are fetched and shown from blob: URLs. */
async function photo(p: Proposal, index: number): Promise<HTMLElement> {
  const res = await apiFetch(`api/v1/users/${encodeURIComponent(p.userId)}/face/proposal/photos/${index}`);
  const url = URL.createObjectURL(await res.blob());
  photoUrls.push(url);
  return h('li', { class: 'thumb' }, h('img', { src: url, alt: `Proposed photo ${index + 1} of ${p.studentName}` }));
}

function decide(p: Proposal, approve: boolean, button: HTMLButtonElement): void {
  button.disabled = true;
  const path = `api/v1/users/${encodeURIComponent(p.userId)}/face/proposal`;
  const request = approve ? apiJson(`${path}/approve`, { method: 'POST' }) : apiFetch(path, { method: 'DELETE' });
  request
    .then(() => {
      announce(byId('proposals-status'), `${approve ? 'Approved' : 'Rejected'} the proposal for ${p.studentName}.`);
      return loadProposals();
    })
    .catch((err: unknown) => {
      button.disabled = false;
      byId('proposals-error').textContent = errorText(err);
    });
}

async function item(p: Proposal): Promise<HTMLElement> {
  const approve = h('button', { type: 'button', class: 'accept', 'aria-label': `Approve the proposal for ${p.studentName}` }, 'Approve');
  const reject = h('button', { type: 'button', class: 'reject', 'aria-label': `Reject the proposal for ${p.studentName}` }, 'Reject');
  approve.addEventListener('click', () => decide(p, true, approve));
  reject.addEventListener('click', () => decide(p, false, reject));
  const photos = await Promise.all(Array.from({ length: p.photoCount }, (_, i) => photo(p, i)));
  const match = p.matchesCurrent ?? 'none';
  return h(
    'li',
    { class: 'proposal', 'data-user-id': p.userId },
    h('h2', {}, p.studentName, p.studentNumber ? h('span', { class: 'muted' }, ` ${p.studentNumber}`) : null),
    h(
      'p',
      {},
      `Proposed by ${p.proposerName}${p.proposerRole ? ` (${p.proposerRole})` : ''} on ${new Date(p.createdAt).toLocaleString()}.`,
    ),
    h('p', { class: `match match-${match}` }, MATCH_TEXT[match]),
    h('ul', { class: 'thumbs', 'aria-label': 'Proposed photos' }, ...photos),
    h('div', { class: 'row' }, approve, reject),
  );
}

export async function loadProposals(): Promise<number> {
  const page = await apiJson<{ items: Proposal[]; total: number }>('api/v1/face-proposals?limit=20');
  for (const url of photoUrls.splice(0)) URL.revokeObjectURL(url);
  const items = await Promise.all(page.items.map(item));
  const more =
    page.total > page.items.length
      ? [h('li', { class: 'muted' }, `Showing the ${page.items.length} oldest of ${page.total}; decide these to see the others.`)]
      : [];
  byId('proposals-list').replaceChildren(
    ...(page.total === 0 ? [h('li', { class: 'muted' }, 'Nothing waits for approval.')] : [...items, ...more]),
  );
  byId('proposal-count').textContent = page.total > 0 ? `(${page.total})` : '';
  return page.total;
}
