import { expect } from 'chai';
import type { Actor } from '../../../src/domain/actor.js';
import type { CheckinService, SubmitInput } from '../../../src/domain/checkins/checkin-service.js';
import { createLogger } from '../../../src/logger.js';
import type { CommandGuard } from '../../../src/realtime/define-handler.js';
import { checkinCommands } from '../../../src/realtime/handlers/checkin-handlers.js';
import { SubmitSchema } from '../../../src/realtime/handlers/submit-payload.js';
import type { AppSocket } from '../../../src/realtime/types.js';

// The checkin:submit command as the dispatcher runs it: the usual payload is read without the
// schema (submit-payload.ts), and reaches the service as the schema's parse would give it;
// anything else is still the schema's to refuse, with its issues.

const SESSION = '0193a4f2-7d1e-7c3a-9b1e-2f6e8d9c0a1b';
const actor: Actor = { id: 'student-1', orgId: 'org-1', role: 'student' };
const socket = {
  data: { userId: actor.id, orgId: actor.orgId, role: 'student', ip: '10.0.0.7', userAgent: 'test' },
} as unknown as AppSocket;
const guard = {
  consume: () => Promise.resolve({ allowed: true, retryAfterMs: 0 }),
  tryConsume: () => null,
  actor: () => Promise.resolve(actor),
  currentActor: () => null,
} as unknown as CommandGuard;

function submitCommand(received: SubmitInput[]) {
  const checkins = {
    submit: (_actor: Actor, input: SubmitInput) => {
      received.push(input);
      return Promise.resolve({ status: 'present' });
    },
  } as unknown as CheckinService;
  const command = checkinCommands({ checkins, logger: createLogger('silent') }).find((c) => c.event === 'checkin:submit');
  if (!command) throw new Error('no checkin:submit command');
  return command;
}

/** Counts the schema's parses while `run` runs. */
async function schemaParses(run: () => Promise<unknown>): Promise<number> {
  const original = SubmitSchema.safeParse;
  let calls = 0;
  SubmitSchema.safeParse = ((...args: Parameters<typeof original>) => {
    calls += 1;
    return original(...args);
  }) as typeof original;
  try {
    await run();
  } finally {
    SubmitSchema.safeParse = original;
  }
  return calls;
}

describe('checkin:submit command: the usual payload without the schema', () => {
  it('reads a check-in with a fix, a code and a device id without parsing it with zod', async () => {
    const received: SubmitInput[] = [];
    const command = submitCommand(received);
    const fix = { lat: 48.85, lon: 2.35, accuracy: 15, timestamp: 1_764_950_000_000 };
    let ack: unknown;
    const parses = await schemaParses(async () => {
      ack = await command.run(socket, { sessionId: SESSION, location: fix, code: ' ab12 ', deviceId: 'device-01' }, guard);
    });
    expect(parses).to.equal(0);
    expect(ack).to.deep.equal({ ok: true, data: { status: 'present' } });
    expect(received).to.deep.equal([
      {
        sessionId: SESSION,
        location: { lat: 48.85, lon: 2.35, accuracyM: 15, timestamp: new Date(fix.timestamp) },
        code: 'ab12',
        joinToken: undefined,
        deviceId: 'device-01',
        userAgent: 'test',
        selfie: undefined,
        liveness: undefined,
        ip: '10.0.0.7',
      },
    ]);
  });

  it('leaves anything else to the schema: a string timestamp is parsed, a bad payload refused with its issues', async () => {
    const received: SubmitInput[] = [];
    const command = submitCommand(received);
    const iso = '2026-12-05T10:00:00Z';
    let parses = await schemaParses(() =>
      command.run(socket, { sessionId: SESSION, location: { lat: 1, lon: 2, accuracy: 3, timestamp: iso } }, guard),
    );
    expect(parses).to.equal(1);
    expect(received.map((r) => r.location?.timestamp.toISOString())).to.deep.equal(['2026-12-05T10:00:00.000Z']);

    let ack: unknown;
    parses = await schemaParses(async () => {
      ack = await command.run(socket, { sessionId: SESSION, code: 'x'.repeat(17) }, guard);
    });
    expect(parses).to.equal(1);
    expect(ack).to.have.nested.property('error.code', 'VALIDATION_FAILED');
    expect(ack).to.have.nested.property('error.details.issues[0].path', 'code');
    expect(received).to.have.length(1);
  });
});
