import type { Store } from '../domain/ports/store.js';
import { StoreUnavailableError, type StoreUnavailableKind } from '../domain/ports/common.js';

/** Where a store that starts or stops failing says so: once per change, not per operation. */
export interface StoreHealthLog {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** What an operator does about each kind of failure; the log line and /readyz carry it. */
const REMEDY: Record<StoreUnavailableKind, string> = {
  'disk-full': 'the disk holding the database is full: free space on its volume (check-ins are refused until then)',
  'read-only': 'the database cannot be written (a read-only file, directory or mount): restore write access for the service',
  io: 'the database file gives I/O errors: check the disk and the service log, restore from backup if it persists',
  busy: 'another process holds the database lock past the wait',
  unreachable: 'the database server cannot be reached: check that it runs and the network to it',
};

export interface StoreFailure {
  kind: StoreUnavailableKind;
  since: Date;
  /** The repository call that failed (`records.writeBatch`); its next success ends the failure. */
  call: string | null;
}

/**
 * Whether the store's last operations failed for a reason of the store itself. Operations
 * translate such failures to StoreUnavailableError (coded UNAVAILABLE for clients); the state
 * lets the readiness probe report them until the store's own probe, or the next success of the
 * operation (see GuardOptions), shows the store works again.
 */
export class StoreHealth {
  private failure: StoreFailure | null = null;

  constructor(
    private readonly label: string,
    private readonly log: StoreHealthLog | undefined,
  ) {}

  get current(): StoreFailure | null {
    return this.failure;
  }

  failed(kind: StoreUnavailableKind, err: unknown, call: string | null = null): void {
    if (this.failure?.kind === kind) return;
    this.failure = { kind, since: new Date(), call };
    this.log?.error({ err, store: this.label, kind }, `store failing: ${REMEDY[kind]}`);
  }

  recovered(): void {
    if (!this.failure) return;
    this.log?.warn({ store: this.label, kind: this.failure.kind, since: this.failure.since }, 'store works again');
    this.failure = null;
  }

  /** The error a probe of a failing store throws: it names the cause and the remedy. */
  error(kind: StoreUnavailableKind, cause: unknown): StoreUnavailableError {
    const err = new StoreUnavailableError(kind, { cause });
    err.message = `${this.label} store unavailable (${kind}): ${REMEDY[kind]}`;
    return err;
  }
}

type Classify = (err: unknown) => StoreUnavailableKind | null;

export interface GuardOptions {
  /**
   * Whether any successful call ends a failure (a database server reachable again), or only
   * the call that failed (SQLite: a read succeeds on a full disk; a write must commit).
   */
  anySuccessRecovers: boolean;
}

/**
 * The store with every repository method guarded: an error `classify` recognises as the
 * store's own (not the operation's) becomes StoreUnavailableError and marks `health` failing.
 * The store's other members (ping, close, transfer) are left as they are.
 */
export function guardStore<S extends Store>(store: S, classify: Classify, health: StoreHealth, options: GuardOptions): S {
  const translate = (err: unknown, call: string): unknown => {
    if (err instanceof StoreUnavailableError) return err;
    const kind = classify(err);
    if (!kind) return err;
    health.failed(kind, err, call);
    return new StoreUnavailableError(kind, { cause: err });
  };
  const succeeded = (call: string): void => {
    const failure = health.current;
    if (failure && (options.anySuccessRecovers || failure.call === call)) health.recovered();
  };
  const guarded: Record<string, unknown> = { ...(store as object) };
  for (const [name, repo] of Object.entries(store)) {
    if (name === 'transfer' || repo === null || typeof repo !== 'object') continue;
    guarded[name] = guardRepository(name, repo as Record<string, unknown>, translate, succeeded);
  }
  return guarded as S;
}

function guardRepository(
  repoName: string,
  repo: Record<string, unknown>,
  translate: (err: unknown, call: string) => unknown,
  succeeded: (call: string) => void,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, member] of Object.entries(repo)) {
    if (typeof member !== 'function') {
      out[name] = member;
      continue;
    }
    const fn = member as (...args: unknown[]) => unknown;
    const call = `${repoName}.${name}`;
    out[name] = (...args: unknown[]): unknown => {
      let result: unknown;
      try {
        result = fn.apply(repo, args);
      } catch (err) {
        throw translate(err, call);
      }
      if (!(result instanceof Promise)) {
        succeeded(call);
        return result;
      }
      return result.then(
        (value: unknown) => {
          succeeded(call);
          return value;
        },
        (err: unknown) => Promise.reject(translate(err, call)),
      );
    };
  }
  return out;
}
