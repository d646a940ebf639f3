import { issue, type ValidationIssue } from '../../shared/validation-issues.js';

/** The hasher (bcrypt) reads only the first 72 bytes; longer passwords would silently match on a prefix. */
export const PASSWORD_MAX_BYTES = 72;
export const PASSWORD_MIN_LENGTH = 8;

/** Which length rule a password breaks, or null when it is acceptable. */
export function passwordRule(password: string): 'tooShort' | 'tooLong' | null {
  if (password.length < PASSWORD_MIN_LENGTH) return 'tooShort';
  if (Buffer.byteLength(password, 'utf8') > PASSWORD_MAX_BYTES) return 'tooLong';
  return null;
}

/** Why a password is not acceptable, or null when it is. */
export function passwordProblem(password: string): string | null {
  const rule = passwordRule(password);
  if (rule === 'tooShort') return `must be at least ${PASSWORD_MIN_LENGTH} characters`;
  if (rule === 'tooLong') return `must be at most ${PASSWORD_MAX_BYTES} bytes`;
  return null;
}

/** A password's refusal as the issue of its field, coded with its limit; null when it is acceptable. */
export function passwordIssue(password: string, path = 'password'): ValidationIssue | null {
  const rule = passwordRule(password);
  const problem = passwordProblem(password);
  if (!rule || !problem) return null;
  return rule === 'tooShort'
    ? issue(path, problem, 'tooShort', { minimum: PASSWORD_MIN_LENGTH })
    : issue(path, problem, 'tooManyBytes', { maximum: PASSWORD_MAX_BYTES });
}

/**
 * Hashes passwords and checks them (bcrypt: src/adapters/bcrypt-password-hasher.ts). `verify`
 * against a missing hash answers false only after as long as a real comparison takes, so
 * response time does not reveal whether an account exists or has a password.
 */
export interface PasswordHasher {
  hash(password: string): Promise<string>;
  verify(password: string, hash: string | null | undefined): Promise<boolean>;
  /**
   * One password against several hashes side by side (a login's accounts of its email, and
   * dummies up to its constant count), admitted as one check: refused before any of them runs,
   * or all run. A missing hash answers false after as long as a real comparison.
   */
  verifyAll(password: string, hashes: ReadonlyArray<string | null | undefined>): Promise<boolean[]>;
  /** Frees what the hasher holds (worker threads); the application calls it on close. */
  close?(): Promise<void>;
  /** The hashing pool's load now, for the operator (metrics, /readyz); absent for a hasher without a pool. */
  status?(): PasswordPoolStatus;
}

/** A password-hashing pool's threads and what waits for them: a login storm shows as `waiting` near `maxQueue`. */
export interface PasswordPoolStatus {
  threads: number;
  /** Hashes and checks on a thread now. */
  running: number;
  /** Hashes and checks waiting for a thread; checks beyond `maxQueue` of them are refused BUSY. */
  waiting: number;
  maxQueue: number;
}
