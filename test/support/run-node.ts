import { spawn } from 'node:child_process';
import { repoRoot } from '../../scripts/lib/repo-root.js';

/** What a node child process printed, and how it ended. */
export interface NodeRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout and stderr interleaved as they arrived. */
  out: string;
}

/** Where a run starts unless told: the repository root. */
export const REPO_ROOT = repoRoot(import.meta.url);

/**
 * Runs `node <args>` (a script of the repository, a CLI, mocha) to its end and collects what it
 * prints. A child still running after `timeoutMs` is killed and the run rejects with its output:
 * a hanging tool fails its test and never outlives the test run.
 */
export function runNode(
  args: readonly string[],
  opts: { env?: NodeJS.ProcessEnv; stdin?: string; cwd?: string; timeoutMs?: number } = {},
): Promise<NodeRun> {
  const timeoutMs = opts.timeoutMs ?? 120_000;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: opts.cwd ?? REPO_ROOT, env: opts.env ?? process.env, stdio: 'pipe' });
    const run: NodeRun = { code: null, stdout: '', stderr: '', out: '' };
    child.stdout.on('data', (d: Buffer) => {
      run.stdout += d.toString();
      run.out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      run.stderr += d.toString();
      run.out += d.toString();
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`node ${args.join(' ')} still ran after ${timeoutMs} ms; killed. It printed:\n${run.out}`));
    }, timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      run.code = code;
      resolve(run);
    });
    child.stdin.end(opts.stdin ?? '');
  });
}
