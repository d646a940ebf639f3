import { expect } from 'chai';
import { z } from 'zod';
import { toHttpError } from '../../../src/http/error-handler.js';
import { defineCommand, type CommandGuard } from '../../../src/realtime/define-handler.js';
import { createLogger } from '../../../src/logger.js';
import { MAX_FIELD_NAME_LENGTH, MAX_ISSUES } from '../../../src/shared/validation-issues.js';
import type { AppSocket } from '../../../src/realtime/types.js';

// A refusal names at most MAX_ISSUES bad fields and says how many it left off: a body of a
// thousand misspelt keys (a megabyte holds ninety thousand) was answered with an issue each,
// the answer nine times the size of the request, to anyone, before any login or rate limit.

const Login = z.strictObject({ email: z.string(), password: z.string() });
const unknownKeys = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, 0]));

describe('validation issues: bounded in number', () => {
  it('an HTTP refusal lists the first MAX_ISSUES issues and counts the others (issuesOmitted)', () => {
    const parsed = Login.safeParse({ email: 'a@b.c', password: 'x', ...unknownKeys(1_000) });
    if (parsed.success) throw new Error('expected a refusal');
    const details = toHttpError(parsed.error)?.details as { issues: { path: string }[]; issuesOmitted?: number };
    expect(details.issues).to.have.length(MAX_ISSUES);
    expect(details.issues[0]!.path).to.equal('k0');
    expect(details.issuesOmitted).to.equal(1_000 - MAX_ISSUES);
  });

  it('a refusal within the bound has no issuesOmitted', () => {
    const parsed = Login.safeParse({ email: 1 });
    if (parsed.success) throw new Error('expected a refusal');
    const details = toHttpError(parsed.error)?.details as { issues: unknown[]; issuesOmitted?: number };
    expect(details.issues).to.have.length(2);
    expect(details).to.not.have.property('issuesOmitted');
  });

  it('a socket command refused alike', async () => {
    const command = defineCommand(
      createLogger('silent'),
      'session:join',
      { limit: 1, windowMs: 1 } as never,
      z.strictObject({ sessionId: z.string() }),
      () => Promise.reject(new Error('not reached')),
    );
    const socket = { data: { userId: 'u', orgId: 'o', role: 'student', ip: '10.0.0.1' } } as unknown as AppSocket;
    const ack = await command.run(socket, { sessionId: 's', ...unknownKeys(500) }, {} as CommandGuard);
    if (ack.ok) throw new Error('expected a refusal');
    const details = ack.error.details as { issues: unknown[]; issuesOmitted?: number };
    expect(details.issues).to.have.length(MAX_ISSUES);
    expect(details.issuesOmitted).to.equal(500 - MAX_ISSUES);
  });
});

// A refusal names each unknown field, and a field name was as long as the client made it: a
// student's malformed command of 100 keys of 9,000 characters was answered with 900 KB, so the
// node sent about as much as it received, for free (validation spends no budget).
describe('validation issues: field names bounded in length', () => {
  const longKey = (i: number) => `${i}-${'k'.repeat(9_000)}`;
  const longKeys = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [longKey(i), 0]));

  it('an HTTP refusal cuts each field name to MAX_FIELD_NAME_LENGTH characters and an ellipsis', () => {
    const parsed = Login.safeParse({ email: 'a@b.c', password: 'x', ...longKeys(150) });
    if (parsed.success) throw new Error('expected a refusal');
    const error = toHttpError(parsed.error)!;
    const details = error.details as { issues: { path: string; code: string }[]; issuesOmitted?: number };
    expect(details.issues).to.have.length(MAX_ISSUES);
    expect(details.issues[0]!.path).to.equal(`${longKey(0).slice(0, MAX_FIELD_NAME_LENGTH)}…`);
    expect(details.issues[0]!.code).to.equal('unknownField');
    // The whole answer is bounded whatever the names: about 130 bytes an issue.
    expect(JSON.stringify(error.toBody()).length).to.be.below(MAX_ISSUES * 160);
  });

  it('a name within the bound is kept whole, and so is every segment of a nested path', () => {
    const Nested = z.strictObject({ location: z.strictObject({ lat: z.number() }) });
    const name = 'n'.repeat(MAX_FIELD_NAME_LENGTH);
    const parsed = Nested.safeParse({ location: { lat: 'x', [name]: 1, [`${name}x`]: 2 } });
    if (parsed.success) throw new Error('expected a refusal');
    const paths = (toHttpError(parsed.error)?.details as { issues: { path: string }[] }).issues.map((i) => i.path).sort();
    expect(paths).to.deep.equal(['location.lat', `location.${name}`, `location.${name}…`].sort());
  });

  it('a name is not cut inside a character outside the BMP (no lone surrogate in the answer)', () => {
    const name = `${'a'.repeat(MAX_FIELD_NAME_LENGTH - 1)}${'😀'.repeat(10)}`;
    const parsed = Login.safeParse({ email: 'a@b.c', password: 'x', [name]: 1 });
    if (parsed.success) throw new Error('expected a refusal');
    const path = (toHttpError(parsed.error)?.details as { issues: { path: string }[] }).issues[0]!.path;
    expect(path).to.equal(`${'a'.repeat(MAX_FIELD_NAME_LENGTH - 1)}…`);
    expect(Buffer.from(path, 'utf8').toString('utf8'), 'UTF-8 round trip').to.equal(path);
  });

  it('a record key named in a path is cut alike', () => {
    const Scores = z.strictObject({ scores: z.record(z.string(), z.number()) });
    const parsed = Scores.safeParse({ scores: { [longKey(0)]: 'x' } });
    if (parsed.success) throw new Error('expected a refusal');
    const path = (toHttpError(parsed.error)?.details as { issues: { path: string }[] }).issues[0]!.path;
    expect(path).to.equal(`scores.${longKey(0).slice(0, MAX_FIELD_NAME_LENGTH)}…`);
  });

  it('a socket command refused alike', async () => {
    const command = defineCommand(
      createLogger('silent'),
      'session:join',
      { limit: 1, windowMs: 1 } as never,
      z.strictObject({ sessionId: z.string() }),
      () => Promise.reject(new Error('not reached')),
    );
    const socket = { data: { userId: 'u', orgId: 'o', role: 'student', ip: '10.0.0.1' } } as unknown as AppSocket;
    const ack = await command.run(socket, { sessionId: 's', ...longKeys(100) }, {} as CommandGuard);
    if (ack.ok) throw new Error('expected a refusal');
    const details = ack.error.details as { issues: { path: string }[] };
    expect(details.issues.map((i) => i.path.length)).to.deep.equal(Array.from({ length: 100 }, () => MAX_FIELD_NAME_LENGTH + 1));
    expect(JSON.stringify(ack).length).to.be.below(MAX_ISSUES * 160);
  });
});
