import type { z } from 'zod';
import { issueRule, type IssueCode } from './validation-issues.js';

/**
 * A string that must match `pattern`, refused with `code`. zod's own `.regex()` issue carries
 * no parameters, so the pages could only say "not in the expected form"; the pattern still
 * reaches the OpenAPI document through the schema's metadata.
 */
export const codedPattern = (
  schema: z.ZodString,
  pattern: RegExp,
  code: IssueCode,
  message: string,
  params: Record<string, string | number> = {},
) => schema.refine((s) => pattern.test(s), issueRule(code, message, params)).meta({ pattern: pattern.source });
