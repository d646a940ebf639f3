import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where scripts/test-setup.sh installs the pinned Schemathesis. */
export const SCHEMATHESIS_BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../.cache/venv/bin/st');

/** The reason the fuzzing test skips, or null when Schemathesis is installed. */
export function schemathesisMissing(): string | null {
  if (existsSync(SCHEMATHESIS_BIN)) return null;
  return `Schemathesis is not installed at ${SCHEMATHESIS_BIN}; run \`bash scripts/test-setup.sh\` (needs python3 with venv and pip)`;
}

/**
 * Every check but three. Two judge whether a request *should* have been accepted
 * (positive_data_acceptance, negative_data_rejection): the document cannot express cross-field
 * and stored-state rules (an id that must name a teacher of this organisation, a range of at
 * most 400 days, a current password that must be right), so they flag correct refusals.
 * ensure_resource_availability follows links Schemathesis infers from path names, and takes
 * e.g. the face proposal of a user just created for that user itself: its 404 is right.
 * What stays: no 5xx; status, content type, headers and body as documented; 405 with Allow
 * for undocumented methods; nothing usable after deletion; no route answering without its token.
 */
export const EXCLUDED_CHECKS = ['positive_data_acceptance', 'negative_data_rejection', 'ensure_resource_availability'] as const;

export interface FuzzRun {
  exitCode: number | null;
  /** Everything Schemathesis printed: its failures come with a curl line to reproduce them. */
  output: string;
}

/** Runs `st run` against the document at `schemaUrl` with the given bearer token. */
export function runSchemathesis(opts: {
  schemaUrl: string;
  token: string;
  maxExamples: number;
  seed: number;
  timeoutMs: number;
  /** A schemathesis.toml, e.g. binding parameters to known ids. */
  configFile?: string;
  /** Where it runs: it keeps a cache (.schemathesis) in its working directory. */
  cwd: string;
}): Promise<FuzzRun> {
  const args = [
    ...(opts.configFile ? ['--config-file', opts.configFile] : []),
    '--no-color',
    'run',
    opts.schemaUrl,
    '--checks',
    'all',
    '--exclude-checks',
    EXCLUDED_CHECKS.join(','),
    '--max-examples',
    String(opts.maxExamples),
    '--seed',
    String(opts.seed),
    '--workers',
    '1',
    '--header',
    `Authorization: Bearer ${opts.token}`,
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(SCHEMATHESIS_BIN, args, { cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    // The bound of a run that hangs; the run itself is awaited through its exit.
    const timer = setTimeout(() => child.kill('SIGTERM'), opts.timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (exitCode) => {
      clearTimeout(timer);
      resolve({ exitCode, output });
    });
  });
}
