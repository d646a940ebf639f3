/**
 * Excuse requests on the student page (docs/absences.md): the student submits one for a range
 * of days with a category, a text and an optional document. Staff decide them in
 * staff-excuses.ts.
 */
import { apiFetch, apiJson } from './auth.js';
import { fetchAll } from './fetch-all.js';
import { byId, errorText, h } from './dom.js';
import { t } from './pages-text.js';

interface Category {
  code: string;
  label: string;
}

export interface ExcuseItem {
  id: string;
  studentName: string;
  fromDay: string;
  toDay: string;
  category: string;
  text: string;
  status: 'pending' | 'approved' | 'declined';
  document: { fileName: string } | null;
  /** The revision shown: a decision sends it back (docs/absences.md). */
  updatedAt: string;
}

export const postJson = (path: string, body: unknown) =>
  apiJson<unknown>(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

/** The days an excuse covers, in words. */
export const period = (e: ExcuseItem) => (e.fromDay === e.toDay ? e.fromDay : t('excuse.period', { from: e.fromDay, to: e.toDay }));

async function fillCategories(select: HTMLSelectElement): Promise<void> {
  const { items } = await apiJson<{ items: Category[] }>('api/v1/absence-categories');
  select.replaceChildren(...items.map((c) => h('option', { value: c.code }, c.label)));
}

async function fillSubjects(select: HTMLSelectElement): Promise<void> {
  const items = await fetchAll<{ id: string; code: string; name: string }>('api/v1/subjects');
  select.replaceChildren(
    ...items.map((s) => h('option', { value: s.id }, `${s.code} ${s.name}`)),
    h('option', { value: '' }, t('excuse.allSubjects')),
  );
}

async function renderMine(): Promise<void> {
  const { items } = await apiJson<{ items: ExcuseItem[] }>('api/v1/excuses?limit=20');
  byId('excuse-list').replaceChildren(
    ...items.map((e) =>
      h(
        'li',
        { 'data-status': e.status },
        h('span', {}, `${period(e)}: ${e.category}`),
        h('span', { class: 'muted' }, t(`excuse.${e.status}`)),
      ),
    ),
  );
}

/** The student's form and their latest excuses. */
export async function bindStudentExcuses(): Promise<void> {
  const form = byId<HTMLFormElement>('excuse-form');
  const error = byId('excuse-error');
  const notice = byId('excuse-notice');
  await fillCategories(byId<HTMLSelectElement>('excuse-category'));
  await fillSubjects(byId<HTMLSelectElement>('excuse-subject'));
  await renderMine();
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    error.textContent = '';
    const data = new FormData(form);
    const file = byId<HTMLInputElement>('excuse-document').files?.[0];
    const submit = form.querySelector('button[type="submit"]') as HTMLButtonElement;
    submit.disabled = true;
    const subjectId = data.get('subjectId');
    const body = {
      fromDay: data.get('fromDay'),
      toDay: data.get('toDay'),
      category: data.get('category'),
      text: data.get('text'),
      ...(subjectId ? { subjectId } : {}),
    };
    notice.textContent = '';
    apiFetch('api/v1/excuses', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
      .then(async (res) => {
        const excuse = (await res.json()) as { id: string };
        if (file) {
          const body = new FormData();
          body.append('document', file);
          await apiFetch(`api/v1/excuses/${encodeURIComponent(excuse.id)}/document`, { method: 'PUT', body });
        }
        // 200, not 201: the pending excuse of these days, sent before (another tab, a retry), now as just sent.
        if (res.status === 200) notice.textContent = t('excuse.alreadyPending');
        form.reset();
        await renderMine();
      })
      .catch((err: unknown) => (error.textContent = errorText(err, form)))
      .finally(() => (submit.disabled = false));
  });
}
