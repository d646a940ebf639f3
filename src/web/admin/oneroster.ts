/**
 * OneRoster 1.1 import (docs/oneroster.md): the bundle's CSV files, chosen together, are sent
 * first as a dry run (POST /oneroster/import?dryRun=true writes nothing) and its report shown;
 * the same files are then imported, and the report of the real run replaces it.
 */
import { ApiError, apiJson } from '../lib/auth.js';
import { announce, byId, errorText, h, show } from '../lib/dom.js';
import { jsonBody } from './fetch-all.js';

/** The bundle's files (BUNDLE_FILES of the server) and the manifest, in the order they are applied. */
const FILES = ['manifest', 'orgs', 'academicSessions', 'users', 'classes', 'enrollments'] as const;
const DATA_FILES = FILES.slice(1);
const ACTIONS = ['created', 'updated', 'unchanged', 'skipped', 'error'] as const;
type Action = (typeof ACTIONS)[number];
/** Rows listed at most; the counts above always cover every row. */
const ROWS_SHOWN = 500;

interface Report {
  dryRun: boolean;
  files: Record<string, Record<Action, number>>;
  rows: Array<{ file: string; line: number; sourcedId: string; action: Action; reason: string | null }>;
}

/** A reason the bundle was refused whole; `file` is the file's name with its .csv. */
interface FileProblem {
  file?: string;
  line?: number;
  reason: string;
}

const ACTION_TEXT: Record<Action, [string, string]> = {
  created: ['Created', 'Would create'],
  updated: ['Updated', 'Would update'],
  unchanged: ['Unchanged', 'Unchanged'],
  skipped: ['Skipped', 'Would skip'],
  error: ['Refused', 'Would refuse'],
};

/** The bundle last checked; the Import button sends exactly it. */
let checked: Record<string, string> | null = null;

async function readBundle(): Promise<Record<string, string>> {
  const files = Array.from(byId<HTMLInputElement>('oneroster-files').files ?? []);
  if (files.length === 0) throw new Error('Choose the CSV files of the bundle first.');
  const bundle: Record<string, string> = {};
  const unknown: string[] = [];
  for (const file of files) {
    const name = file.name.replace(/\.csv$/i, '');
    const known = FILES.find((f) => f.toLowerCase() === name.toLowerCase());
    if (known) bundle[known] = await file.text();
    else unknown.push(file.name);
  }
  if (unknown.length > 0)
    throw new Error(`Not a file of a OneRoster bundle: ${unknown.join(', ')}. Choose ${FILES.map((f) => `${f}.csv`).join(', ')}.`);
  if (!DATA_FILES.some((f) => f in bundle))
    throw new Error('Choose at least one of users.csv, classes.csv, enrollments.csv, orgs.csv, academicSessions.csv.');
  return bundle;
}

function fileProblems(err: unknown): FileProblem[] | null {
  if (!(err instanceof ApiError)) return null;
  const files = err.body.details?.['files'];
  return Array.isArray(files) ? (files as FileProblem[]) : null;
}

function renderReport(report: Report): void {
  const past = report.dryRun ? 1 : 0;
  byId('oneroster-counts-head').replaceChildren(
    h('tr', {}, h('th', { scope: 'col' }, 'File'), ...ACTIONS.map((a) => h('th', { scope: 'col' }, ACTION_TEXT[a][past]))),
  );
  byId('oneroster-counts-body').replaceChildren(
    ...DATA_FILES.map((f) => {
      const counts = report.files[f];
      return h(
        'tr',
        { 'data-file': f },
        h('th', { scope: 'row' }, `${f}.csv`),
        ...ACTIONS.map((a) => h('td', { 'data-action': a }, String(counts?.[a] ?? 0))),
      );
    }),
  );
  byId('oneroster-counts-caption').textContent = report.dryRun ? 'What an import would do, per file' : 'What the import did, per file';
  // Refused rows first: they are what the admin has to fix in the information system.
  const notable = report.rows
    .filter((r) => r.action === 'error' || r.reason !== null)
    .sort((a, b) => Number(b.action === 'error') - Number(a.action === 'error'));
  byId('oneroster-rows-body').replaceChildren(
    ...notable
      .slice(0, ROWS_SHOWN)
      .map((r) =>
        h(
          'tr',
          { 'data-action': r.action },
          h('td', {}, `${r.file}.csv`),
          h('th', { scope: 'row' }, String(r.line)),
          h('td', { class: 'wrap' }, r.sourcedId),
          h('td', {}, ACTION_TEXT[r.action][past]),
          h('td', { class: 'wrap' }, r.reason ?? ''),
        ),
      ),
  );
  byId('oneroster-rows-caption').textContent =
    notable.length === 0
      ? 'No row refused, skipped or changed with a remark'
      : notable.length > ROWS_SHOWN
        ? `Rows refused, skipped or changed: the first ${ROWS_SHOWN} of ${notable.length}`
        : `Rows refused, skipped or changed (${notable.length})`;
  show(byId('oneroster-report'), true);
}

function summary(report: Report): string {
  const total = (a: Action) => DATA_FILES.reduce((n, f) => n + (report.files[f]?.[a] ?? 0), 0);
  const counts = `${total('created')} new, ${total('updated')} updated, ${total('unchanged')} unchanged, ${total('skipped')} skipped, ${total('error')} refused`;
  return report.dryRun ? `Checked, nothing written: ${counts}. Import when this is what you want.` : `Imported: ${counts}.`;
}

async function send(bundle: Record<string, string>, dryRun: boolean): Promise<Report> {
  show(byId('oneroster-refused-block'), false);
  try {
    return await apiJson<Report>(`api/v1/oneroster/import${dryRun ? '?dryRun=true' : ''}`, jsonBody('POST', bundle));
  } catch (err) {
    if (err instanceof ApiError && err.code === 'PAYLOAD_TOO_LARGE') {
      throw new Error(
        'The files together are larger than the server takes in one request (BODY_LIMIT_BYTES). The operator can raise ' +
          'it, or import the directory with the command line: npm run admin -- oneroster import.',
        { cause: err },
      );
    }
    const problems = fileProblems(err);
    if (problems) {
      byId('oneroster-refused-body').replaceChildren(
        ...problems.map((p) =>
          h('tr', {}, h('td', {}, p.file ?? ''), h('td', {}, p.line === undefined ? '' : String(p.line)), h('td', {}, p.reason)),
        ),
      );
      show(byId('oneroster-refused-block'), true);
      throw new Error('The bundle was refused as a whole and nothing was written: see the problems listed below.', { cause: err });
    }
    throw err;
  }
}

export function bindOneRoster(): void {
  const status = byId('oneroster-status');
  const error = byId('oneroster-error');
  const go = byId<HTMLButtonElement>('oneroster-go');
  const start = () => {
    error.textContent = '';
    status.textContent = '';
  };
  byId<HTMLFormElement>('oneroster-form').addEventListener('submit', (event) => {
    event.preventDefault();
    start();
    show(go, false);
    show(byId('oneroster-report'), false);
    checked = null;
    status.textContent = 'Checking the bundle…';
    readBundle()
      .then(async (bundle) => {
        const report = await send(bundle, true);
        checked = bundle;
        renderReport(report);
        show(go, true);
        announce(status, summary(report));
      })
      .catch((err: unknown) => {
        status.textContent = '';
        error.textContent = errorText(err);
      });
  });
  byId<HTMLInputElement>('oneroster-files').addEventListener('change', () => {
    // Other files: the report shown no longer describes what Import would send.
    checked = null;
    show(go, false);
  });
  go.addEventListener('click', () => {
    if (!checked) return;
    start();
    go.disabled = true;
    status.textContent = 'Importing…';
    send(checked, false)
      .then((report) => {
        checked = null;
        show(go, false);
        renderReport(report);
        announce(status, summary(report));
        byId<HTMLFormElement>('oneroster-form').reset();
      })
      .catch((err: unknown) => {
        status.textContent = '';
        error.textContent = errorText(err);
      })
      .finally(() => (go.disabled = false));
  });
}
