import { expect } from 'chai';
import { z } from 'zod';
import type { Actor } from '../../../src/domain/actor.js';
import type { RateLimitResult } from '../../../src/domain/rate-limiter.js';
import { createLogger } from '../../../src/logger.js';
import { AppError } from '../../../src/shared/app-error.js';
import { commandDispatcher, defineCommand, type CommandGuard } from '../../../src/realtime/define-handler.js';
import { CommandsInFlight } from '../../../src/realtime/commands-in-flight.js';
import type { Ack } from '../../../src/shared/errors.js';
import type { AppSocket } from '../../../src/realtime/types.js';

// A command whose budget is counted in memory and whose acting user was read within its TTL
// starts its handler inside run(), with no await before it; anything the guard cannot tell at
// once goes the awaited way, and both ways answer alike.

const actor: Actor = { id: 'student-1', orgId: 'org-1', role: 'student' };
const socket = { id: 'socket-1', data: { userId: actor.id, orgId: actor.orgId, role: 'student', ip: '10.0.0.7' } } as unknown as AppSocket;
const ALLOWED: RateLimitResult = { allowed: true, retryAfterMs: 0 };

interface Calls {
  consume: number;
  tryConsume: number;
  actor: number;
  refund: number;
}

function guardOf(sync: { limit: RateLimitResult | null; actor: () => Actor | null }, calls: Calls): CommandGuard {
  return {
    enter: () => true,
    leave: () => undefined,
    consume: () => ((calls.consume += 1), Promise.resolve(ALLOWED)),
    tryConsume: () => ((calls.tryConsume += 1), sync.limit),
    refund: () => ((calls.refund += 1), Promise.resolve()),
    actor: () => ((calls.actor += 1), Promise.resolve(actor)),
    currentActor: sync.actor,
    busyAnswer: { ok: false, error: new AppError('RATE_LIMITED').toBody() },
  };
}

function commandOf(handler: (ctx: Actor) => Promise<{ at: string }>, started: string[]) {
  return defineCommand(createLogger('silent'), 'session:join', 'light', z.object({ sessionId: z.string() }), (_input, ctx) => {
    started.push(ctx.actor.id);
    // The answer's shape is not what this test is about.
    return handler(ctx.actor) as Promise<never>;
  });
}

const noCalls = (): Calls => ({ consume: 0, tryConsume: 0, actor: 0, refund: 0 });

describe('socket commands: the handler starts at once when the guard can answer without I/O', () => {
  it('runs the handler inside run() from the counted budget and the current actor, and answers with its result', async () => {
    const calls = noCalls();
    const started: string[] = [];
    const command = commandOf(() => Promise.resolve({ at: 'now' }), started);
    const answer = command.run(socket, { sessionId: 's' }, guardOf({ limit: ALLOWED, actor: () => actor }, calls));
    expect(started, 'started before run() returned').to.deep.equal([actor.id]);
    expect(await answer).to.deep.equal({ ok: true, data: { at: 'now' } });
    expect(calls).to.deep.equal({ consume: 0, tryConsume: 1, actor: 0, refund: 0 });
  });

  it('reads the actor the awaited way when it is not current, without counting the budget twice', async () => {
    const calls = noCalls();
    const started: string[] = [];
    const command = commandOf(() => Promise.resolve({ at: 'later' }), started);
    const answer = command.run(socket, { sessionId: 's' }, guardOf({ limit: ALLOWED, actor: () => null }, calls));
    expect(started).to.deep.equal([]);
    expect(await answer).to.deep.equal({ ok: true, data: { at: 'later' } });
    expect(calls).to.deep.equal({ consume: 0, tryConsume: 1, actor: 1, refund: 0 });
  });

  it('asks consume() when the budget cannot be told at once', async () => {
    const calls = noCalls();
    const command = commandOf(() => Promise.resolve({ at: 'later' }), []);
    expect(await command.run(socket, { sessionId: 's' }, guardOf({ limit: null, actor: () => actor }, calls))).to.deep.equal({
      ok: true,
      data: { at: 'later' },
    });
    expect(calls).to.deep.equal({ consume: 1, tryConsume: 1, actor: 1, refund: 0 });
  });

  it('answers a spent budget RATE_LIMITED with its retry hint and runs nothing', async () => {
    const calls = noCalls();
    const started: string[] = [];
    const command = commandOf(() => Promise.resolve({ at: 'never' }), started);
    const ack = await command.run(
      socket,
      { sessionId: 's' },
      guardOf({ limit: { allowed: false, retryAfterMs: 1234 }, actor: () => actor }, calls),
    );
    expect(ack).to.deep.include({ ok: false });
    expect(ack.ok ? null : ack.error).to.deep.include({ code: 'RATE_LIMITED', details: { retryAfterMs: 1234, limit: 'light' } });
    expect(started).to.deep.equal([]);
  });

  it("answers the current actor's refusal with its code", async () => {
    const calls = noCalls();
    const command = commandOf(() => Promise.resolve({ at: 'never' }), []);
    const refused = () => {
      throw new AppError('ACCOUNT_DISABLED');
    };
    const ack = await command.run(socket, { sessionId: 's' }, guardOf({ limit: ALLOWED, actor: refused }, calls));
    expect(ack.ok ? null : ack.error.code).to.equal('ACCOUNT_DISABLED');
  });

  it('gives the budget back when the handler started at once ends BUSY', async () => {
    const calls = noCalls();
    const command = commandOf(() => Promise.reject(new AppError('BUSY', undefined, { retryAfterMs: 500 })), []);
    const ack = await command.run(socket, { sessionId: 's' }, guardOf({ limit: ALLOWED, actor: () => actor }, calls));
    expect(ack.ok ? null : ack.error.code).to.equal('BUSY');
    expect(calls.refund).to.equal(1);
  });
});

describe('socket commands: a payload check that throws', () => {
  // run() used to be an async function, so anything its payload check threw became an answer;
  // since it starts the handler inside run(), a throw there must not leave the dispatcher
  // without its answer: the in-flight slot stayed taken for good (the socket answered BUSY
  // from then on) and the throw went up through socket.io's listener to the process.
  const throwing = () =>
    defineCommand(
      createLogger('silent'),
      'session:join',
      'light',
      z.object({ sessionId: z.string() }),
      () => Promise.reject(new Error('not reached')),
      () => {
        throw new Error('payload check failed');
      },
    );

  it('answers the throw as a failed command, without throwing from run()', async () => {
    const calls = noCalls();
    const command = throwing();
    let answer: Promise<unknown> | undefined;
    expect(() => (answer = command.run(socket, { sessionId: 's' }, guardOf({ limit: ALLOWED, actor: () => actor }, calls)))).not.to.throw();
    const ack = (await answer) as { ok: boolean; error?: { code: string } };
    expect(ack.ok).to.equal(false);
    expect(ack.error?.code).to.equal('INTERNAL');
    expect(calls).to.deep.equal({ consume: 0, tryConsume: 0, actor: 0, refund: 0 });
  });

  it("gives the dispatcher's in-flight slot back and answers", async () => {
    const calls = noCalls();
    let held = 0;
    const guard: CommandGuard = {
      ...guardOf({ limit: ALLOWED, actor: () => actor }, calls),
      enter: () => ((held += 1), true),
      leave: () => void (held -= 1),
    };
    const acks: Ack<unknown>[] = [];
    const answered = new Promise<void>((resolve) => {
      const dispatch = commandDispatcher([throwing()], guard, new CommandsInFlight(createLogger('silent')));
      dispatch.call(socket, 'session:join', { sessionId: 's' }, (ack: Ack<unknown>) => {
        acks.push(ack);
        resolve();
      });
    });
    await answered;
    expect(held).to.equal(0);
    expect(acks.map((a) => a.ok)).to.deep.equal([false]);
  });
});
