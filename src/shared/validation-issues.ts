import type { z } from 'zod';
import type { RowProblem } from './row-problems.js';

/** One bad field of a payload or request body, as `details.issues` lists it. */
export interface ValidationIssue {
  path: string;
  message: string;
  /** The message as a code the pages word, when the server checked the field itself (a guardian contact). */
  problem?: RowProblem;
}

/**
 * Each issue names its field (`location.lat`); an unknown field is an issue of its own, named
 * by its path, rather than one nameless issue listing keys. Sockets and HTTP answer alike.
 */
export function validationIssues(issues: readonly z.core.$ZodIssue[]): ValidationIssue[] {
  return issues.flatMap((i) =>
    i.code === 'unrecognized_keys'
      ? i.keys.map((key) => ({ path: [...i.path, key].map(String).join('.'), message: 'Unknown field.' }))
      : [{ path: i.path.map(String).join('.'), message: i.message }],
  );
}
