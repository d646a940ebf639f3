// Runs the service as an operator would from the README: `npm start`'s command (`node --import tsx
// src/index.ts`) in its own process, configured only by the documented environment variables, and
// the admin CLI as `npm run admin -- ...`. Nothing here reaches into the server's code.
import { spawn, type ChildProcess } from 'node:child_process';
import { REPO_ROOT } from '../support/run-node.js';

export interface ServiceNode {
  nodeId: string;
  url: string;
  proc: ChildProcess;
  /** Everything the process printed so far. */
  output(): string;
  /** SIGTERM, the documented graceful shutdown; resolves with the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL: a crash. */
  kill(): Promise<void>;
}

/** The environment an operator writes: PATH and HOME from here, every other variable named. */
export function operatorEnv(vars: Record<string, string>): NodeJS.ProcessEnv {
  return { PATH: process.env['PATH'], HOME: process.env['HOME'], ...vars };
}

/**
 * Starts one node and resolves once it logged `listening on ...` (docs/deploy.md step 3 names
 * that line), or rejects with its output when it exits first.
 */
export function startServiceNode(vars: Record<string, string>, timeoutMs = 90_000): Promise<ServiceNode> {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/index.ts'], {
    cwd: REPO_ROOT,
    env: operatorEnv({ LOG_LEVEL: 'info', ...vars }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  // 'close' (the process ended and its output was read to the end), not 'exit': a node refused
  // at start writes why as its last line, which 'exit' may come before.
  const exited = new Promise<number | null>((resolve) => proc.once('close', (code) => resolve(code)));
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`node ${vars['NODE_ID']} did not listen within ${timeoutMs} ms:\n${out}`));
    }, timeoutMs);
    const onData = () => {
      const m = /"msg":"listening on (https?:\/\/[^"]+)"/.exec(out);
      if (!m) return;
      clearTimeout(timer);
      proc.stdout!.off('data', onData);
      const url = m[1]!.replace('localhost', '127.0.0.1');
      resolve({
        nodeId: vars['NODE_ID'] ?? '',
        url,
        proc,
        output: () => out,
        stop: async () => {
          if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode;
          proc.kill('SIGTERM');
          return exited;
        },
        kill: async () => {
          if (proc.exitCode !== null || proc.signalCode !== null) return;
          proc.kill('SIGKILL');
          await exited;
        },
      });
    };
    proc.stdout!.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`node ${vars['NODE_ID']} exited with ${code} before listening:\n${out}`));
    });
  });
}

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `npm run admin -- <args>` (README "First run in production"), with `stdin` piped in. */
export function runAdminCli(args: string[], vars: Record<string, string>, stdin = ''): Promise<CliRun> {
  return runNpmScript('admin', args, vars, stdin);
}

/** `npm run backup -- <args>` (docs/backup.md), with the service's variables. */
export function runBackupCli(args: string[], vars: Record<string, string>): Promise<CliRun> {
  return runNpmScript('backup', args, vars, '');
}

function runNpmScript(script: string, args: string[], vars: Record<string, string>, stdin: string): Promise<CliRun> {
  const proc = spawn('npm', ['run', '--silent', script, '--', ...args], {
    cwd: REPO_ROOT,
    env: operatorEnv(vars),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const run: CliRun = { code: null, stdout: '', stderr: '' };
  proc.stdout.on('data', (d: Buffer) => (run.stdout += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (run.stderr += d.toString()));
  proc.stdin.end(stdin);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`${script} ${args.join(' ')} still ran after 120 s:\n${run.stdout}${run.stderr}`));
    }, 120_000);
    proc.once('error', reject);
    proc.once('close', (code) => {
      clearTimeout(timer);
      run.code = code;
      resolve(run);
    });
  });
}
