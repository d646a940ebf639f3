/**
 * The staff list of pending excuses (docs/absences.md): those of the teacher's subjects (all for
 * an administrator), each approved or declined with one tap, its document downloadable.
 */
import { apiFetch, apiJson } from './auth.js';
import { byId, errorText, h } from './dom.js';
import { period, postJson, type ExcuseItem } from './excuse-panel.js';
import { formatNumber } from './i18n.js';
import { tt } from './teacher-text.js';

/** Excuses a page shows; the count says how many wait in all, Next shows the rest. */
const PAGE = 50;
/**
 * The cursor of each page from the first to the one shown (null: the first): the page's own
 * state, kept across a decision's refresh. A cursor is a place in the list, not a count, so a
 * decision taken here or on another screen shifts nothing (docs/absences.md).
 */
let trail: (string | null)[] = [null];
/** The shown page's `nextCursor`: Next follows it. */
let next: string | null = null;

interface ExcusePage {
  items: ExcuseItem[];
  total: number;
  nextCursor: string | null;
}

const pageAfter = (cursor: string | null) =>
  apiJson<ExcusePage>(`api/v1/excuses?status=pending&limit=${PAGE}${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`);

async function renderPending(): Promise<void> {
  let page = await pageAfter(trail.at(-1) ?? null);
  // The last ones of the last page decided (here or by a colleague): the page before, not an empty list.
  while (page.items.length === 0 && trail.length > 1) {
    trail = trail.slice(0, -1);
    page = await pageAfter(trail.at(-1) ?? null);
  }
  const { items, total } = page;
  next = page.nextCursor;
  byId('excuses-shown').textContent =
    total > items.length ? tt('excuses.shown', { shown: formatNumber(items.length), total: formatNumber(total) }) : '';
  byId('excuses-pager').hidden = next === null && trail.length === 1;
  byId<HTMLButtonElement>('excuses-prev').disabled = trail.length === 1;
  byId<HTMLButtonElement>('excuses-next').disabled = next === null;
  const list = byId('pending-excuses');
  if (items.length === 0) {
    list.replaceChildren(h('li', { class: 'muted' }, tt('excuses.none')));
    return;
  }
  list.replaceChildren(
    ...items.map((e) => {
      const who = tt('excuses.who', { student: e.studentName, period: period(e) });
      const line = e.text
        ? tt('excuses.lineText', { who, category: e.category, text: e.text })
        : tt('excuses.line', { who, category: e.category });
      const li = h('li', { 'data-excuse': e.id }, h('span', {}, line));
      if (e.document) {
        const link = h('button', { type: 'button', 'aria-label': tt('excuses.documentLabel', { who }) }, tt('excuses.document'));
        link.addEventListener('click', () => void download(e.id, e.document!.fileName));
        li.append(link);
      }
      for (const decision of ['approve', 'decline'] as const) {
        const button = h('button', { type: 'button', 'aria-label': tt(`excuses.${decision}Label`, { who }) }, tt(`excuses.${decision}`));
        button.addEventListener('click', () => {
          button.disabled = true;
          // What this line shows is what is decided: a student's edit since answers RECORD_CHANGED.
          postJson(`api/v1/excuses/${encodeURIComponent(e.id)}/${decision}`, { updatedAt: e.updatedAt })
            .then(() => renderPending())
            .catch(async (err: unknown) => {
              button.disabled = false;
              byId('excuses-error').textContent = errorText(err);
              // The list as it stands (the edit, or a colleague's decision), to decide again on it.
              if (err instanceof Error && 'code' in err && (err.code === 'RECORD_CHANGED' || err.code === 'EXCUSE_DECIDED')) {
                await renderPending();
              }
            })
            .catch((err: unknown) => (byId('excuses-error').textContent = errorText(err)));
        });
        li.append(button);
      }
      return li;
    }),
  );
}

async function download(id: string, fileName: string): Promise<void> {
  const res = await apiFetch(`api/v1/excuses/${encodeURIComponent(id)}/document`);
  const url = URL.createObjectURL(await res.blob());
  const a = h('a', { href: url, download: fileName });
  a.click();
  URL.revokeObjectURL(url);
}

/** The staff list of pending excuses. */
export async function bindStaffExcuses(): Promise<void> {
  const show = (pages: (string | null)[]) => {
    trail = pages;
    void renderPending().catch((err: unknown) => (byId('excuses-error').textContent = errorText(err)));
  };
  byId('refresh-excuses').addEventListener('click', () => show(trail));
  byId('excuses-prev').addEventListener('click', () => show(trail.length > 1 ? trail.slice(0, -1) : trail));
  byId('excuses-next').addEventListener('click', () => show(next === null ? trail : [...trail, next]));
  await renderPending();
}
