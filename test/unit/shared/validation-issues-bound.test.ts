import { expect } from 'chai';
import { z } from 'zod';
import { toHttpError } from '../../../src/http/error-handler.js';
import { defineCommand, type CommandGuard } from '../../../src/realtime/define-handler.js';
import { createLogger } from '../../../src/logger.js';
import { MAX_ISSUES } from '../../../src/shared/validation-issues.js';
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
