import { z } from 'zod';
import { codedPattern } from '../../shared/coded-pattern.js';
import { AppError } from '../../shared/app-error.js';
import { englishProblem, rowProblem, type RowProblem } from '../../shared/row-problems.js';
import { requireRole, type Actor } from '../actor.js';
import { audit } from '../audit-log.js';
import { absenceCategoriesOf, type AbsenceCategory } from '../ports/organisations.js';
import { type Store } from '../ports/store.js';
import { issue, type IssueCode } from '../../shared/validation-issues.js';

export const CATEGORY_CODE_PATTERN = /^[A-Z][A-Z0-9_]{0,31}$/;
/** A category code as a request gives it: the list itself, or a record excused by hand. */
export const AbsenceCategoryCode = codedPattern(
  z.string(),
  CATEGORY_CODE_PATTERN,
  'categoryCode',
  'upper-case letters, digits and _, starting with a letter, at most 32',
);
export const MAX_ABSENCE_CATEGORIES = 50;

/** An organisation's absence categories: everyone reads them, its admins replace them. */
export class AbsenceCategoryService {
  constructor(private readonly deps: { store: Store; clock: () => Date }) {}

  async list(actor: Actor): Promise<AbsenceCategory[]> {
    const org = await this.deps.store.organisations.get(actor.orgId);
    if (!org) throw new AppError('NOT_FOUND');
    return absenceCategoriesOf(org.settings);
  }

  /**
   * Replaces the whole list. Records already excused keep the code they were given, so a code
   * dropped here still reads back on them and in exports.
   */
  async replace(actor: Actor, categories: AbsenceCategory[]): Promise<AbsenceCategory[]> {
    requireRole(actor, 'admin');
    if (categories.length === 0 || categories.length > MAX_ABSENCE_CATEGORIES) {
      const count: Coded =
        categories.length === 0
          ? { code: 'tooFew', params: { minimum: 1 } }
          : { code: 'tooMany', params: { maximum: MAX_ABSENCE_CATEGORIES } };
      throw invalid('categories', rowProblem('categoryCount', { max: MAX_ABSENCE_CATEGORIES }), count);
    }
    const seen = new Set<string>();
    const next = categories.map((c, i) => {
      const code = c.code.trim().toUpperCase();
      const label = c.label.trim();
      if (!CATEGORY_CODE_PATTERN.test(code))
        throw invalid(`categories.${i}.code`, rowProblem('categoryCodePattern'), { code: 'categoryCode', params: {} });
      if (seen.has(code)) throw invalid(`categories.${i}.code`, rowProblem('categoryCodeRepeated', { code }));
      if (label.length < 1 || label.length > 100) {
        const length: Coded = label.length < 1 ? { code: 'required', params: {} } : { code: 'tooLong', params: { maximum: 100 } };
        throw invalid(`categories.${i}.label`, rowProblem('categoryLabelLength'), length);
      }
      seen.add(code);
      return { code, label, authorised: c.authorised };
    });
    const org = await this.deps.store.organisations.get(actor.orgId);
    if (!org) throw new AppError('NOT_FOUND');
    const before = absenceCategoriesOf(org.settings);
    const after = await this.deps.store.organisations.update(org.id, { settings: { ...org.settings, absenceCategories: next } });
    if (!after) throw new AppError('NOT_FOUND');
    await audit(this.deps.store, actor, this.deps.clock(), {
      entityType: 'organisation',
      entityId: org.id,
      action: 'organisation.absenceCategories',
      from: before,
      to: next,
    });
    return absenceCategoriesOf(after.settings);
  }
}

interface Coded {
  code: IssueCode;
  params: Record<string, number>;
}

/** `coded` words the field's rule as a form does (`Label: at most 100 characters`); a duplicate is only its problem. */
function invalid(path: string, problem: RowProblem, coded: Coded = { code: 'invalid', params: {} }): AppError {
  const message = englishProblem(problem);
  return new AppError('VALIDATION_FAILED', `${path}: ${message}.`, {
    issues: [{ ...issue(path, message, coded.code, coded.params), problem }],
  });
}
