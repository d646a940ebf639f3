import { expect } from 'chai';
import { z } from 'zod';
import { CidrSchema } from '../../../src/domain/subjects/subject-input.js';
import { CalendarDay } from '../../../src/http/schemas.js';
import { ISSUE_CODES, issueRule, validationIssues } from '../../../src/shared/validation-issues.js';
import { pageEn } from '../../../src/web/locales/en.js';
import pageFr from '../../../src/web/locales/fr.js';

const issuesOf = (schema: z.ZodType, value: unknown) => {
  const parsed = schema.safeParse(value);
  if (parsed.success) throw new Error('expected a refusal');
  return validationIssues(parsed.error.issues).map(({ path, code, params }) => ({ path, code, params }));
};

const placeholders = (message: unknown): string[] => {
  const texts = typeof message === 'string' ? [message] : Object.values(message as Record<string, string>);
  return [...new Set(texts.flatMap((m) => [...m.matchAll(/\{(\w+)\}|#/g)].map((x) => x[1] ?? '#')))].sort();
};

describe('validation issues: a code and its limits beside zod’s English message', () => {
  it('codes every kind of issue a schema reports, with the limits it names', () => {
    const schema = z.strictObject({
      name: z.string().trim().min(1).max(5),
      tags: z.array(z.string()).min(1).max(2),
      count: z.number().int().min(1).max(10),
      radius: z.number().positive().lt(100),
      step: z.number().multipleOf(5),
      email: z.email(),
      url: z.url(),
      day: z.iso.date(),
      at: z.iso.datetime(),
      time: z.iso.time(),
      code: z.string().regex(/^[A-Z]+$/),
      role: z.enum(['admin', 'teacher']),
      flag: z.boolean(),
      text: z.string(),
      list: z.array(z.number()),
      room: z.object({ lat: z.number() }),
      range: CidrSchema,
      from: CalendarDay,
      either: z.union([z.number(), z.boolean()]),
      other: z.string().refine(() => false, 'no'),
    });
    expect(
      issuesOf(schema, {
        name: 'abcdefg',
        tags: [],
        count: 1.5,
        radius: 100,
        step: 7,
        email: 'nope',
        url: 'nope',
        day: '2026-02-30',
        at: 'yesterday',
        time: '25:00',
        code: 'abc',
        role: 'parent',
        flag: 'yes',
        text: 3,
        list: {},
        room: [],
        range: '10.0.0.300/8',
        from: '3000-01-01',
        either: 'x',
        other: 'x',
        extra: 1,
      }),
    ).to.deep.equal([
      { path: 'name', code: 'tooLong', params: { maximum: 5 } },
      { path: 'tags', code: 'tooFew', params: { minimum: 1 } },
      { path: 'count', code: 'notInteger', params: {} },
      { path: 'radius', code: 'notBelow', params: { maximum: 100 } },
      { path: 'step', code: 'notMultiple', params: { divisor: 5 } },
      { path: 'email', code: 'email', params: {} },
      { path: 'url', code: 'url', params: {} },
      { path: 'day', code: 'day', params: {} },
      { path: 'at', code: 'dateTime', params: {} },
      { path: 'time', code: 'time', params: {} },
      { path: 'code', code: 'pattern', params: {} },
      { path: 'role', code: 'notOneOf', params: { values: 'admin, teacher' } },
      { path: 'flag', code: 'notBoolean', params: {} },
      { path: 'text', code: 'notText', params: {} },
      { path: 'list', code: 'notList', params: {} },
      { path: 'room', code: 'notObject', params: {} },
      { path: 'range', code: 'cidr', params: {} },
      { path: 'from', code: 'dayOutOfRange', params: { minimum: '1900-01-01', maximum: '2999-12-31' } },
      { path: 'either', code: 'invalid', params: {} },
      { path: 'other', code: 'invalid', params: {} },
      { path: 'extra', code: 'unknownField', params: {} },
    ]);
    expect(
      issuesOf(z.object({ n: z.number().min(2), m: z.number().gt(0).max(3), s: z.string().min(3) }), { n: 1, m: 4, s: '' }),
    ).to.deep.equal([
      { path: 'n', code: 'tooSmall', params: { minimum: 2 } },
      { path: 'm', code: 'tooBig', params: { maximum: 3 } },
      { path: 's', code: 'tooShort', params: { minimum: 3 } },
    ]);
    expect(issuesOf(z.object({ n: z.number().gt(0) }), { n: 0 })).to.deep.equal([{ path: 'n', code: 'notAbove', params: { minimum: 0 } }]);
    expect(issuesOf(z.array(z.number()).max(1), [1, 2])).to.deep.equal([{ path: '', code: 'tooMany', params: { maximum: 1 } }]);
  });

  it('says a missing field is required (zod names no input; its message does, which this pins)', () => {
    expect(issuesOf(z.object({ name: z.string(), count: z.number() }), {})).to.deep.equal([
      { path: 'name', code: 'required', params: {} },
      { path: 'count', code: 'required', params: {} },
    ]);
  });

  it('keeps zod’s English message, takes a refinement’s code from issueRule, and nests under a prefix', () => {
    const refined = z.object({ to: z.string() }).refine(() => false, { ...issueRule('endBeforeStart', 'to is before from'), path: ['to'] });
    const parsed = refined.safeParse({ to: 'x' });
    expect(parsed.success).to.equal(false);
    expect(validationIssues(parsed.error!.issues, 'window')).to.deep.equal([
      { path: 'window.to', message: 'to is before from', code: 'endBeforeStart', params: {} },
    ]);
  });

  it('the page catalogs word every code, French with the same placeholders and its own words', () => {
    const en = pageEn as Record<string, unknown>;
    const fr = pageFr as Record<string, unknown>;
    for (const catalog of [en, fr]) {
      expect(
        Object.keys(catalog)
          .filter((k) => k.startsWith('issue.'))
          .sort(),
      ).to.deep.equal(ISSUE_CODES.map((c) => `issue.${c}`).sort());
    }
    for (const code of ISSUE_CODES) {
      expect(placeholders(fr[`issue.${code}`]), code).to.deep.equal(placeholders(en[`issue.${code}`]));
      expect(fr[`issue.${code}`], code).to.not.deep.equal(en[`issue.${code}`]);
    }
  });
});
