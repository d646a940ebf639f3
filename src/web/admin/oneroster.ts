/**
 * OneRoster 1.1 import (docs/oneroster.md): the bundle's CSV files, chosen together, are sent
 * first as a dry run (POST /oneroster/import?dryRun=true writes nothing) and its report shown;
 * the same files are then imported, and the report of the real run replaces it.
 */
import { ApiError, apiJson } from '../lib/auth.js';
import { announce, byId, errorText, h, show } from '../lib/dom.js';
import { at } from '../lib/admin-text.js';
import { formatNumber } from '../lib/i18n.js';
import { jsonBody } from './fetch-all.js';
import type { RowProblem } from '../../shared/row-problems.js';
import { problemsText } from './problem-text.js';

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
  rows: Array<{ file: string; line: number; sourcedId: string; action: Action; reason: string | null; problem?: RowProblem | null }>;
}

/** A reason the bundle was refused whole; `file` is the file's name with its .csv. */
interface FileProblem {
  file?: string;
  line?: number;
  reason: string;
  problem?: RowProblem;
}

/** What a row became (an import) or would become (a check). */
const actionText = (action: Action, dryRun: boolean): string => at(dryRun ? `oneroster.would.${action}` : `oneroster.did.${action}`);

/** The bundle last checked; the Import button sends exactly it. */
let checked: Record<string, string> | null = null;

async function readBundle(): Promise<Record<string, string>> {
  const files = Array.from(byId<HTMLInputElement>('oneroster-files').files ?? []);
  if (files.length === 0) throw new Error(at('oneroster.chooseFiles'));
  const bundle: Record<string, string> = {};
  const unknown: string[] = [];
  for (const file of files) {
    const name = file.name.replace(/\.csv$/i, '');
    const known = FILES.find((f) => f.toLowerCase() === name.toLowerCase());
    if (known) bundle[known] = await file.text();
    else unknown.push(file.name);
  }
  if (unknown.length > 0)
    throw new Error(at('oneroster.notBundle', { files: unknown.join(', '), expected: FILES.map((f) => `${f}.csv`).join(', ') }));
  if (!DATA_FILES.some((f) => f in bundle)) throw new Error(at('oneroster.chooseOne'));
  return bundle;
}

function fileProblems(err: unknown): FileProblem[] | null {
  if (!(err instanceof ApiError)) return null;
  const files = err.body.details?.['files'];
  return Array.isArray(files) ? (files as FileProblem[]) : null;
}

function renderReport(report: Report): void {
  byId('oneroster-counts-head').replaceChildren(
    h(
      'tr',
      {},
      h('th', { scope: 'col' }, at('oneroster.file')),
      ...ACTIONS.map((a) => h('th', { scope: 'col' }, actionText(a, report.dryRun))),
    ),
  );
  byId('oneroster-counts-body').replaceChildren(
    ...DATA_FILES.map((f) => {
      const counts = report.files[f];
      return h(
        'tr',
        { 'data-file': f },
        h('th', { scope: 'row' }, `${f}.csv`),
        ...ACTIONS.map((a) => h('td', { 'data-action': a }, formatNumber(counts?.[a] ?? 0))),
      );
    }),
  );
  byId('oneroster-counts-caption').textContent = at(report.dryRun ? 'oneroster.wouldCaption' : 'oneroster.didCaption');
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
          h('td', {}, actionText(r.action, report.dryRun)),
          h('td', { class: 'wrap' }, problemsText(r.problem ? [r.problem] : null, r.reason)),
        ),
      ),
  );
  byId('oneroster-rows-caption').textContent =
    notable.length === 0
      ? at('oneroster.noNotable')
      : notable.length > ROWS_SHOWN
        ? at('oneroster.notableFirst', { shown: formatNumber(ROWS_SHOWN), total: formatNumber(notable.length) })
        : at('oneroster.notable', { total: formatNumber(notable.length) });
  show(byId('oneroster-report'), true);
}

function summary(report: Report): string {
  const total = (a: Action) => formatNumber(DATA_FILES.reduce((n, f) => n + (report.files[f]?.[a] ?? 0), 0));
  const counts = at('oneroster.counts', {
    created: total('created'),
    updated: total('updated'),
    unchanged: total('unchanged'),
    skipped: total('skipped'),
    refused: total('error'),
  });
  return at(report.dryRun ? 'oneroster.checked' : 'oneroster.imported', { counts });
}

async function send(bundle: Record<string, string>, dryRun: boolean): Promise<Report> {
  show(byId('oneroster-refused-block'), false);
  try {
    return await apiJson<Report>(`api/v1/oneroster/import${dryRun ? '?dryRun=true' : ''}`, jsonBody('POST', bundle));
  } catch (err) {
    if (err instanceof ApiError && err.code === 'PAYLOAD_TOO_LARGE') {
      throw new Error(at('oneroster.tooLarge'), { cause: err });
    }
    const problems = fileProblems(err);
    if (problems) {
      byId('oneroster-refused-body').replaceChildren(
        ...problems.map((p) =>
          h(
            'tr',
            {},
            h('td', {}, p.file ?? ''),
            h('td', {}, p.line === undefined ? '' : formatNumber(p.line)),
            h('td', {}, problemsText(p.problem ? [p.problem] : null, p.reason)),
          ),
        ),
      );
      show(byId('oneroster-refused-block'), true);
      throw new Error(at('oneroster.refused'), { cause: err });
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
    status.textContent = at('oneroster.checking');
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
    status.textContent = at('oneroster.importing');
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
