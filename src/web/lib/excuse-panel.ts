/**
 * Excuse requests on the pages (docs/absences.md): the student submits one for a range of days
 * with a category, a text and an optional document; staff see the pending ones of their
 * subjects and approve or decline them.
 */
import { apiFetch, apiJson } from './auth.js';
import { byId, errorText, h } from './dom.js';
import { t } from './i18n.js';

interface Category {
  code: string;
  label: string;
}

interface ExcuseItem {
  id: string;
  studentName: string;
  fromDay: string;
  toDay: string;
  category: string;
  text: string;
  status: 'pending' | 'approved' | 'declined';
  document: { fileName: string } | null;
}

const postJson = (path: string, body: unknown) =>
  apiJson<unknown>(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

const period = (e: ExcuseItem) => (e.fromDay === e.toDay ? e.fromDay : t('excuse.period', { from: e.fromDay, to: e.toDay }));

async function fillCategories(select: HTMLSelectElement): Promise<void> {
  const { items } = await apiJson<{ items: Category[] }>('api/v1/absence-categories');
  select.replaceChildren(...items.map((c) => h('option', { value: c.code }, c.label)));
}

async function fillSubjects(select: HTMLSelectElement): Promise<void> {
  const { items } = await apiJson<{ items: Array<{ id: string; code: string; name: string }> }>('api/v1/subjects?limit=200');
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
    postJson('api/v1/excuses', body)
      .then(async (created) => {
        if (file) {
          const body = new FormData();
          body.append('document', file);
          await apiFetch(`api/v1/excuses/${encodeURIComponent((created as { id: string }).id)}/document`, { method: 'PUT', body });
        }
        form.reset();
        await renderMine();
      })
      .catch((err: unknown) => (error.textContent = errorText(err)))
      .finally(() => (submit.disabled = false));
  });
}

async function renderPending(): Promise<void> {
  const { items } = await apiJson<{ items: ExcuseItem[] }>('api/v1/excuses?status=pending&limit=50');
  const list = byId('pending-excuses');
  if (items.length === 0) {
    list.replaceChildren(h('li', { class: 'muted' }, 'No excuse waiting.'));
    return;
  }
  list.replaceChildren(
    ...items.map((e) => {
      const who = `${e.studentName}, ${period(e)}`;
      const li = h('li', { 'data-excuse': e.id }, h('span', {}, `${who}: ${e.category}${e.text ? ` (${e.text})` : ''}`));
      if (e.document) {
        const link = h('button', { type: 'button', 'aria-label': `Download the document of ${who}` }, 'Document');
        link.addEventListener('click', () => void download(e.id, e.document!.fileName));
        li.append(link);
      }
      for (const decision of ['approve', 'decline'] as const) {
        const label = decision === 'approve' ? 'Approve' : 'Decline';
        const button = h('button', { type: 'button', 'aria-label': `${label} the excuse of ${who}` }, label);
        button.addEventListener('click', () => {
          button.disabled = true;
          postJson(`api/v1/excuses/${encodeURIComponent(e.id)}/${decision}`, {})
            .then(() => renderPending())
            .catch((err: unknown) => {
              button.disabled = false;
              byId('excuses-error').textContent = errorText(err);
            });
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
  await renderPending();
  byId('refresh-excuses').addEventListener(
    'click',
    () => void renderPending().catch((err: unknown) => (byId('excuses-error').textContent = errorText(err))),
  );
}
