/**
 * A CSV import with a progress bar, for an import route that checks a file whole (users, meetings,
 * subjects). The route is all or nothing per request, so the page first sends the whole file as a
 * dry run (the bad rows at once, in a table, nothing written; past the first the server describes,
 * a count), then sends the good rows in chunks (at most 10, each with the header), advancing the
 * bar after each. A chunk refused meanwhile (an email or code taken since the check) is reported by
 * its rows' lines in the file; the chunks before it stay imported.
 */
import { ApiError, apiFetch } from '../lib/auth.js';
import { announce, byId, errorText, h, show } from '../lib/dom.js';
import {
  chunkCsv,
  chunkSize,
  lineInFile,
  lineNumbersCertain,
  splitCsv,
  type CsvChunk,
  type CsvFile,
  type CsvRecord,
} from '../lib/csv-records.js';
import { at } from '../lib/admin-text.js';
import { formatNumber } from '../lib/i18n.js';
import { problemsText, refusedRows, unlistedText, type RefusedRows } from './problem-text.js';
import type { RowProblem } from '../../shared/row-problems.js';

/** A row the server or the page refused: its line in the file, the cell the table shows beside it, why. */
export interface ImportRowError {
  line: number;
  /** The row's own cell the table shows (its email, its code), when the server quoted it. */
  key: string | null;
  reason: string;
  problems?: RowProblem[];
  /** Imported, but not wholly (a class's student refused at the write): the problems say what was left out. */
  inPart?: boolean;
}

type AnswerRow = Record<string, unknown> & { line: number };

export interface ChunkedImportSetup<A> {
  /** The section's elements are `${prefix}-progress`, `${prefix}-errors-body`, `${prefix}-go`... */
  prefix: string;
  /** The import route, `?dryRun=true` added for the check. */
  path: string;
  /** The cell of a refused row the server quotes (`email`, `code`). */
  keyField: string;
  /** The go button's words for all the file's rows. */
  goAll: (count: number) => string;
  /** The summary once every chunk is sent. */
  done: (imported: number, count: number) => string;
  /**
   * Takes a chunk's answer: how many it imported, the rows it left out and those it imported only
   * in part (their lines in the chunk).
   */
  accept: (answer: A) => {
    imported: number;
    refused?: AnswerRow[];
    inPart?: AnswerRow[];
    /** Rows taken as they are, with a word on each (a meeting already there skipped, a teacher double-booked). */
    notes?: AnswerRow[];
  };
  /**
   * A dry run that found no bad row: its summary and the rows it has a word on (the meetings
   * import's skips and warnings); left out, "all N rows are fine".
   */
  checked?: (answer: A) => { text: string; notes: AnswerRow[] };
  /** When a new check starts: what the last import offered goes. */
  checking?: () => void;
  /** After the last chunk, with how many were imported. */
  finished?: (imported: number) => void;
}

export interface ChunkedImport {
  /** Checks a file (a dry run) and offers to import its good rows. */
  check(text: string): Promise<void>;
  /** Sends the good rows in chunks. */
  run(): Promise<void>;
}

/** The page's import flow for one route, bound to its section's elements. */
export function chunkedImport<A>(setup: ChunkedImportSetup<A>): ChunkedImport {
  const id = (name: string) => `${setup.prefix}-${name}`;
  let file: CsvFile | null = null;
  let toImport: CsvRecord[] = [];

  const toRowError = (row: Record<string, unknown> & { line: number }, line: number): ImportRowError => {
    const key = row[setup.keyField];
    const problems = row['problems'] as RowProblem[] | undefined;
    return { line, key: typeof key === 'string' ? key : null, reason: String(row['reason'] ?? ''), ...(problems ? { problems } : {}) };
  };

  function showErrors(errors: ImportRowError[], caption: string, unlisted = ''): void {
    byId(id('errors-caption')).textContent = caption;
    const more = byId(id('errors-more'));
    more.textContent = unlisted;
    show(more, unlisted !== '');
    byId(id('errors-body')).replaceChildren(
      ...errors.map((e) =>
        h(
          'tr',
          {},
          h('th', { scope: 'row' }, String(e.line)),
          h('td', { class: 'wrap' }, e.key ?? ''),
          h(
            'td',
            {},
            e.inPart ? at('import.incompleteReason', { reason: problemsText(e.problems, e.reason) }) : problemsText(e.problems, e.reason),
          ),
        ),
      ),
    );
    show(byId(id('errors-block')), errors.length > 0);
  }

  function progress(value: number | null, max: number, text: string): void {
    const bar = byId<HTMLProgressElement>(id('progress'));
    bar.max = Math.max(1, max);
    // No value attribute: the indeterminate bar of "checking".
    if (value === null) bar.removeAttribute('value');
    else bar.value = value;
    show(byId(id('progress-block')), true);
    byId(id('progress-text')).textContent = text;
  }

  const post = (csv: string, dryRun: boolean): Promise<Response> =>
    apiFetch(`${setup.path}${dryRun ? '?dryRun=true' : ''}`, { method: 'POST', headers: { 'content-type': 'text/csv' }, body: csv });

  /** Sends one chunk, waiting out RATE_LIMITED answers (the heavy-route budget) as told. */
  async function postPatiently(csv: string): Promise<A> {
    for (;;) {
      try {
        return (await (await post(csv, false)).json()) as A;
      } catch (err) {
        if (!(err instanceof ApiError) || err.code !== 'RATE_LIMITED') throw err;
        const wait = Number(err.body.details?.['retryAfterMs'] ?? 5_000);
        byId(id('progress-text')).textContent = at('import.waiting', { seconds: formatNumber(Math.ceil(wait / 1000)) });
        await new Promise((resolve) => setTimeout(resolve, wait));
      }
    }
  }

  async function check(text: string): Promise<void> {
    file = splitCsv(text);
    toImport = [];
    setup.checking?.();
    show(byId(id('go')), false);
    showErrors([], '');
    const rows = file.rows.length;
    progress(null, rows, at('import.checking', { count: rows }));
    try {
      const answer = (await (await post(text, true)).json()) as A & { checked: number };
      toImport = file.rows;
      const said = setup.checked?.(answer);
      progress(0, rows, said?.text ?? at('import.allFine', { count: answer.checked }));
      if (said && said.notes.length > 0)
        showErrors(
          said.notes.map((r) => toRowError(r, r.line)),
          at('import.notesCaption', { count: said.notes.length }),
        );
    } catch (err) {
      const refused: RefusedRows<Record<string, unknown> & { line: number }> | null =
        err instanceof ApiError ? refusedRows(err.body.details) : null;
      if (!refused) throw err;
      // Every bad line, also those past the rows the server describes, is left out of the import.
      const bad = new Set(refused.lines);
      showErrors(
        refused.rows.map((r) => toRowError(r, r.line)),
        at('import.errorsCaption', { count: refused.total }),
        unlistedText(refused),
      );
      const certain = lineNumbersCertain(text, file) && !bad.has(1);
      toImport = certain ? file.rows.filter((r) => !bad.has(r.line)) : [];
      const next = toImport.length > 0 ? at('import.canImportRest', { count: toImport.length }) : at('import.fixFile');
      progress(0, rows, `${at('import.someBad', { bad: formatNumber(refused.total), count: rows })} ${next}`);
    }
    if (toImport.length > 0) {
      const go = byId(id('go'));
      go.textContent = toImport.length === rows ? setup.goAll(rows) : at('import.goGood', { count: toImport.length });
      show(go, true);
    }
  }

  /** The rows of a chunk left out: those the server names say why, the others what refused the chunk. */
  function leftOut(header: CsvRecord, chunk: CsvChunk, named: Array<Record<string, unknown> & { line: number }>, reason: string | null) {
    const byLine = new Map(named.map((e) => [lineInFile(header, chunk, e.line), e]));
    const rows = reason === null ? chunk.rows.filter((r) => byLine.has(r.line)) : chunk.rows;
    return rows.map((r) => {
      const e = byLine.get(r.line);
      return e ? toRowError(e, r.line) : { line: r.line, key: null, reason: at('import.notImportedReason', { reason: reason ?? '' }) };
    });
  }

  async function run(): Promise<void> {
    if (!file?.header || toImport.length === 0) return;
    const header = file.header;
    const chunks = chunkCsv(header, toImport, chunkSize(toImport.length));
    const failed: ImportRowError[] = [];
    const inPart: ImportRowError[] = [];
    const noted: ImportRowError[] = [];
    let imported = 0;
    let done = 0;
    progress(0, toImport.length, at('import.started', { total: formatNumber(toImport.length) }));
    for (const chunk of chunks) {
      try {
        const answer = setup.accept(await postPatiently(chunk.csv));
        imported += answer.imported;
        failed.push(...leftOut(header, chunk, answer.refused ?? [], null));
        inPart.push(...leftOut(header, chunk, answer.inPart ?? [], null).map((e) => ({ ...e, inPart: true })));
        noted.push(...leftOut(header, chunk, answer.notes ?? [], null));
      } catch (err) {
        // Every row of a refused chunk is left out; the ones at fault say why.
        const refused = err instanceof ApiError ? refusedRows<Record<string, unknown> & { line: number }>(err.body.details) : null;
        failed.push(...leftOut(header, chunk, refused?.rows ?? [], errorText(err)));
      }
      done += chunk.rows.length;
      progress(
        done,
        toImport.length,
        at('import.processed', { done: formatNumber(done), total: formatNumber(toImport.length), imported: formatNumber(imported) }),
      );
    }
    const summary = [
      setup.done(imported, toImport.length),
      failed.length > 0 ? at('import.notImported', { count: failed.length }) : '',
      inPart.length > 0 ? at('import.incomplete', { count: inPart.length }) : '',
    ]
      .filter(Boolean)
      .join(' ');
    progress(toImport.length, toImport.length, summary);
    const shown = [...failed, ...inPart].sort((a, b) => a.line - b.line);
    const caption = inPart.length > 0 ? 'import.incompleteCaption' : 'import.notImportedCaption';
    if (shown.length > 0)
      showErrors(
        [...shown, ...noted].sort((a, b) => a.line - b.line),
        at(caption, { count: shown.length }),
      );
    else if (noted.length > 0) showErrors(noted, at('import.notesCaption', { count: noted.length }));
    announce(byId('live'), summary);
    show(byId(id('go')), false);
    toImport = [];
    setup.finished?.(imported);
  }

  return { check, run };
}

/** Binds a section's form (`${prefix}-form`, `-file`, `-error`) and go button to an import. */
export function bindChunkedImport(prefix: string, flow: ChunkedImport): void {
  const error = byId(`${prefix}-error`);
  byId<HTMLFormElement>(`${prefix}-form`).addEventListener('submit', (event) => {
    event.preventDefault();
    error.textContent = '';
    const chosen = byId<HTMLInputElement>(`${prefix}-file`).files?.[0];
    if (!chosen) {
      error.textContent = at('admin.chooseCsv');
      return;
    }
    chosen
      .text()
      .then(flow.check)
      .catch((err: unknown) => (error.textContent = errorText(err)));
  });
  byId(`${prefix}-go`).addEventListener('click', () => {
    error.textContent = '';
    flow.run().catch((err: unknown) => (error.textContent = errorText(err)));
  });
}
