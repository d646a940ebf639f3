import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { REOPEN_DEFAULT_MS } from '../../../src/domain/sessions/session-lifecycle.js';
import { LONGEST_SESSION_MS } from '../../../src/domain/ports/sessions.js';
import type { AppError } from '../../../src/shared/app-error.js';
import { expectCode } from '../../support/expect-code.js';
import { createLiveFixture, type LiveFixture } from '../../support/live-fixture.js';
import { REPO_ROOT } from '../../support/run-node.js';

// No session is stored longer than LONGEST_SESSION_MS: the stores' clash reads
// (listActiveFor{Teacher,Subjects}During) look back only that far, so a longer one would be
// missed by every clash check. Each path that writes a window is tried one millisecond past
// the bound (refused VALIDATION_FAILED, problem TOO_LONG, nothing stored) and at the bound.

const HOUR = 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString();

function tooLong(err: AppError): void {
  const problems = (err.details?.['problems'] ?? []) as { code: string }[];
  expect(problems.map((p) => p.code)).to.include('TOO_LONG');
}

describe('sessions last at most LONGEST_SESSION_MS, on every path that writes a window (domain, embedded store)', () => {
  let f: LiveFixture;
  beforeEach(async () => {
    f = await createLiveFixture({ students: 1 });
  });
  afterEach(() => f.close());

  const now = () => f.clock.now().getTime();
  const stored = async (id: string) => {
    const s = (await f.store.sessions.get(f.org.id, id))!;
    return s.closesAt.getTime() - s.startsAt.getTime();
  };
  const open = (input: { startsAt?: string; closesAt?: string }) =>
    f.live.sessions.open(f.actor(f.teacher), { subjectId: f.subject.id, ...input });
  const storedCount = async () => (await f.store.sessions.listActiveForSubjects(f.org.id, [f.subject.id])).length;

  it('open now: refused past the bound, nothing stored; accepted at it', async () => {
    tooLong(await expectCode(open({ closesAt: iso(now() + LONGEST_SESSION_MS + 1) }), 'VALIDATION_FAILED'));
    expect(await storedCount()).to.equal(0);
    const view = await open({ closesAt: iso(now() + LONGEST_SESSION_MS) });
    expect(await stored(view.id)).to.equal(LONGEST_SESSION_MS);
  });

  it('scheduled ahead: refused past the bound, nothing stored', async () => {
    const start = now() + 48 * HOUR;
    tooLong(await expectCode(open({ startsAt: iso(start), closesAt: iso(start + LONGEST_SESSION_MS + 1) }), 'VALIDATION_FAILED'));
    expect(await storedCount()).to.equal(0);
  });

  it('extend, open or scheduled: refused past startsAt + the bound, the window unchanged', async () => {
    const live = await open({ closesAt: iso(now() + HOUR) });
    const start = now() + 48 * HOUR;
    const ahead = await open({ startsAt: iso(start), closesAt: iso(start + HOUR) });
    for (const view of [live, ahead]) {
      const startsAt = Date.parse(view.startsAt);
      const err = await expectCode(
        f.live.lifecycle.extend(f.actor(f.teacher), { sessionId: view.id, closesAt: iso(startsAt + LONGEST_SESSION_MS + 1) }),
        'VALIDATION_FAILED',
      );
      tooLong(err);
      expect(await stored(view.id)).to.equal(HOUR);
    }
    // Extended in steps, each under the bound from now, the window still cannot pass it.
    f.clock.advance(20 * HOUR);
    tooLong(
      await expectCode(
        f.live.lifecycle.extend(f.actor(f.teacher), { sessionId: live.id, closesAt: iso(now() + 5 * HOUR) }),
        'VALIDATION_FAILED',
      ),
    );
    await f.live.lifecycle.extend(f.actor(f.teacher), {
      sessionId: live.id,
      closesAt: iso(Date.parse(live.startsAt) + LONGEST_SESSION_MS),
    });
    expect(await stored(live.id)).to.equal(LONGEST_SESSION_MS);
  });

  it('reopen: refused when its new close is past startsAt + the bound, given or by default', async () => {
    const view = await open({ closesAt: iso(now() + 23 * HOUR) });
    await f.live.closer.close(f.org.id, view.id, f.teacher.id);
    const startsAt = Date.parse(view.startsAt);
    tooLong(
      await expectCode(
        f.live.lifecycle.reopen(f.actor(f.teacher), { sessionId: view.id, closesAt: iso(startsAt + LONGEST_SESSION_MS + 1) }),
        'VALIDATION_FAILED',
      ),
    );
    expect((await f.store.sessions.get(f.org.id, view.id))?.status).to.equal('closed');
    // Closed by hand 5 min before the bound: the default reopening (REOPEN_DEFAULT_MS, 10 min from now) would pass it.
    const late = await open({ startsAt: iso(now() + 48 * HOUR), closesAt: iso(now() + 48 * HOUR + LONGEST_SESSION_MS) });
    f.clock.advance(48 * HOUR + LONGEST_SESSION_MS - 5 * 60_000);
    await f.live.closer.close(f.org.id, late.id, f.teacher.id);
    expect(REOPEN_DEFAULT_MS).to.be.greaterThan(5 * 60_000);
    tooLong(await expectCode(f.live.lifecycle.reopen(f.actor(f.teacher), { sessionId: late.id }), 'VALIDATION_FAILED'));
    expect(await stored(late.id)).to.be.at.most(LONGEST_SESSION_MS);
  });

  it("reschedule (a meeting's edit, a hand-over): refused past the bound, the session as it was", async () => {
    const start = now() + 48 * HOUR;
    const view = await open({ startsAt: iso(start), closesAt: iso(start + HOUR) });
    const session = (await f.store.sessions.get(f.org.id, view.id))!;
    const change = {
      startsAt: session.startsAt,
      lateAfter: session.lateAfter,
      closesAt: new Date(start + LONGEST_SESSION_MS + 1),
      teacherId: session.teacherId,
      policy: session.policy,
      room: session.room,
    };
    tooLong(await expectCode(f.live.lifecycle.reschedule(f.actor(f.admin), view.id, change), 'VALIDATION_FAILED'));
    expect(await stored(view.id)).to.equal(HOUR);
  });

  it('writes windows only through those paths: session creation and the extend, reschedule and reopen transitions', () => {
    // A new writer of startsAt/closesAt must come with its own case above (and validateWindow).
    const files = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? files(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : [],
      );
    const writers: string[] = [];
    for (const file of files(path.join(REPO_ROOT, 'src/domain'))) {
      const text = readFileSync(file, 'utf8');
      const rel = path.relative(REPO_ROOT, file);
      if (/sessions\.create\(/.test(text)) writers.push(`${rel}: sessions.create`);
      if (/sessions\.transition\(/.test(text)) writers.push(`${rel}: sessions.transition`);
      if (/transfer\.import\(\s*'sessions'/.test(text)) writers.push(`${rel}: transfer.import sessions`);
      for (const m of text.matchAll(/applyTransition\([^)]*?'(\w+)',\s*\{[^}]*\b(startsAt|closesAt|\.\.\.)/g))
        writers.push(`${rel}: ${m[1]}`);
      for (const m of text.matchAll(/applyTransition\([^)]*?'(\w+)',\s*change\b/g)) writers.push(`${rel}: ${m[1]}`);
    }
    expect(writers.sort()).to.deep.equal([
      'src/domain/seed-history.ts: transfer.import sessions',
      'src/domain/sessions/lifecycle.ts: sessions.transition',
      'src/domain/sessions/session-lifecycle.ts: extend',
      'src/domain/sessions/session-lifecycle.ts: reopen',
      'src/domain/sessions/session-lifecycle.ts: reschedule',
      'src/domain/sessions/session-service.ts: sessions.create',
    ]);
  });
});
