/** Face proposals: see the proposed photos and how they compare with the reference in force, approve or reject. */
import { apiFetch, apiJson } from '../lib/auth.js';
import { announce, byId, dateTime, errorText, h } from '../lib/dom.js';
import { at } from '../lib/admin-text.js';
import { formatNumber } from '../lib/i18n.js';

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

const matchText = (match: NonNullable<Proposal['matchesCurrent']> | 'none'): string => at(`proposals.match.${match}`);

const photoUrls: string[] = [];

/** The photos come with the bearer token, so they are fetched and shown from blob: URLs. */
async function photo(p: Proposal, index: number): Promise<HTMLElement> {
  const res = await apiFetch(`api/v1/users/${encodeURIComponent(p.userId)}/face/proposal/photos/${index}`);
  const url = URL.createObjectURL(await res.blob());
  photoUrls.push(url);
  return h(
    'li',
    { class: 'thumb' },
    h('img', { src: url, alt: at('proposals.photoAlt', { n: formatNumber(index + 1), name: p.studentName }) }),
  );
}

function decide(p: Proposal, approve: boolean, button: HTMLButtonElement): void {
  button.disabled = true;
  const path = `api/v1/users/${encodeURIComponent(p.userId)}/face/proposal`;
  const request = approve ? apiJson(`${path}/approve`, { method: 'POST' }) : apiFetch(path, { method: 'DELETE' });
  request
    .then(() => {
      announce(byId('proposals-status'), at(approve ? 'proposals.approved' : 'proposals.rejected', { name: p.studentName }));
      return loadProposals();
    })
    .catch((err: unknown) => {
      button.disabled = false;
      byId('proposals-error').textContent = errorText(err);
    });
}

async function item(p: Proposal): Promise<HTMLElement> {
  const approve = h(
    'button',
    { type: 'button', class: 'accept', 'aria-label': at('proposals.approveOf', { name: p.studentName }) },
    at('proposals.approve'),
  );
  const reject = h(
    'button',
    { type: 'button', class: 'reject', 'aria-label': at('proposals.rejectOf', { name: p.studentName }) },
    at('proposals.reject'),
  );
  approve.addEventListener('click', () => decide(p, true, approve));
  reject.addEventListener('click', () => decide(p, false, reject));
  const photos = await Promise.all(Array.from({ length: p.photoCount }, (_, i) => photo(p, i)));
  const match = p.matchesCurrent ?? 'none';
  return h(
    'li',
    { class: 'proposal', 'data-user-id': p.userId },
    h('h2', {}, p.studentName, p.studentNumber ? h('span', { class: 'muted' }, ` ${p.studentNumber}`) : null),
    h('p', {}, proposedBy(p)),
    h('p', { class: `match match-${match}` }, matchText(match)),
    h('ul', { class: 'thumbs', 'aria-label': at('proposals.photos') }, ...photos),
    h('div', { class: 'row' }, approve, reject),
  );
}

/** Who proposed it and when; a role the catalog names is said in the page's language. */
function proposedBy(p: Proposal): string {
  const when = dateTime(p.createdAt);
  const role = p.proposerRole;
  if (role !== 'student' && role !== 'teacher' && role !== 'admin') return at('proposals.by', { name: p.proposerName, when });
  return at('proposals.byRole', { name: p.proposerName, role: at(`role.${role}`), when });
}

export async function loadProposals(): Promise<number> {
  const page = await apiJson<{ items: Proposal[]; total: number }>('api/v1/face-proposals?limit=20');
  for (const url of photoUrls.splice(0)) URL.revokeObjectURL(url);
  const items = await Promise.all(page.items.map(item));
  const more =
    page.total > page.items.length
      ? [h('li', { class: 'muted' }, at('proposals.more', { shown: formatNumber(page.items.length), total: formatNumber(page.total) }))]
      : [];
  byId('proposals-list').replaceChildren(...(page.total === 0 ? [h('li', { class: 'muted' }, at('proposals.none'))] : [...items, ...more]));
  byId('proposal-count').textContent = page.total > 0 ? `(${formatNumber(page.total)})` : '';
  return page.total;
}
