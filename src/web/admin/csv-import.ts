/**
 * CSV import with a progress bar. The import endpoint is all or nothing per request, so the
 * page first sends the whole file as a dry run (the bad rows at once, in a table, nothing written;
 * past the first the server describes, a count), then sends the good rows in chunks (at most 10, each with the header), advancing
 * the bar after each. A chunk refused meanwhile (an email taken since the check) is reported
 * by its rows' lines in the file; the chunks before it stay imported.
 */
import { ApiError, apiFetch } from '../lib/auth.js';
import { announce, byId, errorText, h, show } from '../lib/dom.js';
import { chunkCsv, chunkSize, lineInFile, lineNumbersCertain, splitCsv, type CsvFile, type CsvRecord } from '../lib/csv-records.js';
import { at } from '../lib/admin-text.js';
import { formatNumber } from '../lib/i18n.js';
import { invitedText, inviteMany } from './invitations.js';
import { problemsText, refusedRows, unlistedText, type RefusedRows } from './problem-text.js';
import type { RowError, User } from './types.js';

let file: CsvFile | null = null;
let toImport: CsvRecord[] = [];
/** Users imported and not invited yet: a second click (after a full outbox, or an error) invites only these. */
let imported: string[] = [];
/** How many the last import made (the button says when only some are left to invite). */
let importedCount = 0;

function rowErrors(err: unknown): RowError[] | null {
  return refusedErrors(err)?.rows ?? null;
}

function refusedErrors(err: unknown): RefusedRows<RowError> | null {
  return err instanceof ApiError ? refusedRows<RowError>(err.body.details) : null;
}

function showErrors(errors: RowError[], caption: string, unlisted = ''): void {
  byId('import-errors-caption').textContent = caption;
  const more = byId('import-errors-more');
  more.textContent = unlisted;
  show(more, unlisted !== '');
  byId('import-errors-body').replaceChildren(
    ...errors.map((e) =>
      h(
        'tr',
        {},
        h('th', { scope: 'row' }, String(e.line)),
        h('td', { class: 'wrap' }, e.email ?? ''),
        h('td', {}, problemsText(e.problems, e.reason)),
      ),
    ),
  );
  show(byId('import-errors-block'), errors.length > 0);
}

function progress(value: number | null, max: number, text: string): void {
  const bar = byId<HTMLProgressElement>('import-progress');
  bar.max = Math.max(1, max);
  // No value attribute: the indeterminate bar of "checking".
  if (value === null) bar.removeAttribute('value');
  else bar.value = value;
  show(byId('import-progress-block'), true);
  byId('import-progress-text').textContent = text;
}

function post(csv: string, dryRun: boolean): Promise<Response> {
  return apiFetch(`api/v1/users/import${dryRun ? '?dryRun=true' : ''}`, {
    method: 'POST',
    headers: { 'content-type': 'text/csv' },
    body: csv,
  });
}

/** Sends one request, waiting out RATE_LIMITED answers (the heavy-route budget) as told. */
async function postPatiently(csv: string): Promise<{ created: number; users: User[] }> {
  for (;;) {
    try {
      return (await (await post(csv, false)).json()) as { created: number; users: User[] };
    } catch (err) {
      if (!(err instanceof ApiError) || err.code !== 'RATE_LIMITED') throw err;
      const wait = Number(err.body.details?.['retryAfterMs'] ?? 5_000);
      byId('import-progress-text').textContent = at('import.waiting', { seconds: formatNumber(Math.ceil(wait / 1000)) });
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}

async function check(text: string): Promise<void> {
  file = splitCsv(text);
  toImport = [];
  imported = [];
  show(byId('import-go'), false);
  show(byId('import-invite'), false);
  showErrors([], '');
  const rows = file.rows.length;
  progress(null, rows, at('import.checking', { count: rows }));
  try {
    const answer = (await (await post(text, true)).json()) as { checked: number };
    toImport = file.rows;
    progress(0, rows, at('import.allFine', { count: answer.checked }));
  } catch (err) {
    const refused = refusedErrors(err);
    if (!refused) throw err;
    // Every bad line, also those past the rows the server describes, is left out of the import.
    const bad = new Set(refused.lines);
    showErrors(refused.rows, at('import.errorsCaption', { count: refused.total }), unlistedText(refused));
    const certain = lineNumbersCertain(text, file) && !bad.has(1);
    toImport = certain ? file.rows.filter((r) => !bad.has(r.line)) : [];
    const next = toImport.length > 0 ? at('import.canImportRest', { count: toImport.length }) : at('import.fixFile');
    progress(0, rows, `${at('import.someBad', { bad: formatNumber(refused.total), count: rows })} ${next}`);
  }
  if (toImport.length > 0) {
    const go = byId('import-go');
    go.textContent = toImport.length === rows ? at('import.goAll', { count: rows }) : at('import.goGood', { count: toImport.length });
    show(go, true);
  }
}

async function runImport(): Promise<void> {
  if (!file?.header || toImport.length === 0) return;
  const header = file.header;
  const chunks = chunkCsv(header, toImport, chunkSize(toImport.length));
  const failed: RowError[] = [];
  let done = 0;
  progress(0, toImport.length, at('import.started', { total: formatNumber(toImport.length) }));
  for (const chunk of chunks) {
    try {
      const answer = await postPatiently(chunk.csv);
      imported.push(...answer.users.map((u) => u.id));
    } catch (err) {
      const errors = rowErrors(err);
      const reason = errorText(err);
      // Every row of a refused chunk is left out; the ones at fault say why.
      const byLine = new Map((errors ?? []).map((e) => [lineInFile(header, chunk, e.line), e]));
      for (const r of chunk.rows) {
        const e = byLine.get(r.line);
        failed.push(
          e
            ? { line: r.line, email: e.email, reason: e.reason, ...(e.problems ? { problems: e.problems } : {}) }
            : { line: r.line, email: null, reason: at('import.notImportedReason', { reason }) },
        );
      }
    }
    done += chunk.rows.length;
    progress(
      done,
      toImport.length,
      at('import.processed', {
        done: formatNumber(done),
        total: formatNumber(toImport.length),
        imported: formatNumber(imported.length),
      }),
    );
  }
  const finished = at('import.done', { imported: formatNumber(imported.length), count: toImport.length });
  const summary = failed.length > 0 ? `${finished} ${at('import.notImported', { count: failed.length })}` : finished;
  progress(toImport.length, toImport.length, summary);
  if (failed.length > 0) showErrors(failed, at('import.notImportedCaption', { count: failed.length }));
  announce(byId('live'), summary);
  show(byId('import-go'), false);
  toImport = [];
  importedCount = imported.length;
  inviteLabel();
  show(byId('import-invite'), imported.length > 0);
}

/**
 * Invites the imported users not invited yet: what a full outbox left stays for the next click,
 * and the words say so; invited users are never invited twice.
 */
async function inviteImported(): Promise<string> {
  const result = await inviteMany(imported);
  imported = result.left;
  return invitedText(result);
}

function inviteLabel(): void {
  byId('import-invite').textContent =
    imported.length > 0 && imported.length < importedCount ? at('import.inviteRest', { count: imported.length }) : at('import.inviteAll');
}

export function bindImport(): void {
  const form = byId<HTMLFormElement>('import-form');
  const error = byId('import-error');
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    error.textContent = '';
    const chosen = byId<HTMLInputElement>('import-file').files?.[0];
    if (!chosen) {
      error.textContent = at('admin.chooseCsv');
      return;
    }
    chosen
      .text()
      .then(check)
      .catch((err: unknown) => (error.textContent = errorText(err)));
  });
  byId('import-go').addEventListener('click', () => {
    error.textContent = '';
    runImport().catch((err: unknown) => (error.textContent = errorText(err)));
  });
  byId('import-invite').addEventListener('click', () => {
    const button = byId<HTMLButtonElement>('import-invite');
    button.disabled = true;
    inviteImported()
      .then((text) => {
        byId('import-progress-text').textContent = text;
        announce(byId('live'), text);
        inviteLabel();
        show(button, imported.length > 0);
      })
      .catch((err: unknown) => (error.textContent = errorText(err)))
      .finally(() => {
        button.disabled = false;
        inviteLabel();
      });
  });
}
