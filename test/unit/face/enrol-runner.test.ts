import { expect } from 'chai';
import { parse as parseCsv } from 'csv-parse/sync';
import { AppError } from '../../../src/shared/app-error.js';
import { formatCsv, formatSummary, planEnrolment, type Batch, type BatchResult, type StudentRef } from '../../../scripts/lib/enrol-plan.js';
import { failUnfinished, runBatches } from '../../../scripts/lib/enrol-runner.js';

const student = (id: string, n: string): StudentRef => ({ id, studentNumber: n, email: `${id}@x.org`, name: `Name ${id}` });
const students = [student('u1', 'S001'), student('u2', 'S002'), student('u3', 'S003'), student('u4', 'S004')];
const planOf = () =>
  planEnrolment(
    [
      { name: 'S001.jpg', digest: 'a' },
      { name: 'S002.jpg', digest: 'b' },
      { name: 'S002_2.jpg', digest: 'c' },
      { name: 'S003.jpg', digest: 'd' },
      { name: 'S004.jpg', digest: 'e' },
    ],
    { enrolled: students, others: [] },
  );
const outcomes = (plan: ReturnType<typeof planOf>) => Object.fromEntries(plan.entries.map((e) => [e.file, e.outcome]));

describe('bulk enrolment runner', () => {
  it('records a student whose enrolment throws as failed INTERNAL and goes on with the others', async () => {
    const plan = planOf();
    const seen: string[] = [];
    const errors: Array<[string, unknown]> = [];
    const boom = new Error('worker exited with code 70');
    await runBatches(plan, {
      concurrency: 2,
      enrol: async (batch: Batch): Promise<BatchResult> => {
        seen.push(batch.student.id);
        if (batch.student.id === 'u2') throw boom;
        if (batch.student.id === 'u3') throw new AppError('FACE_ENROLMENT_REFUSED'); // a rejection, not a resolved refusal: still only this student
        return { ok: true, proposed: false };
      },
      onError: (batch, err) => errors.push([batch.student.id, err]),
    });
    expect(seen).to.have.members(['u1', 'u2', 'u3', 'u4']);
    expect(errors.map(([id]) => id)).to.have.members(['u2', 'u3']);
    expect(errors.find(([id]) => id === 'u2')![1]).to.equal(boom);
    const o = outcomes(plan);
    expect(o['S001.jpg']).to.deep.equal({ kind: 'enrolled' });
    expect(o['S002.jpg']).to.deep.equal({ kind: 'failed', code: 'INTERNAL', message: 'worker exited with code 70' });
    expect(o['S002_2.jpg']).to.deep.equal({ kind: 'failed', code: 'INTERNAL', message: 'worker exited with code 70' });
    expect(o['S003.jpg']).to.include({ kind: 'failed', code: 'INTERNAL' });
    expect(o['S004.jpg']).to.deep.equal({ kind: 'enrolled' });
    const rows = parseCsv(formatCsv(plan.entries), { columns: true }) as Array<Record<string, string>>;
    expect(rows.find((r) => r['file'] === 'S002.jpg')).to.include({ outcome: 'failed', detail: 'INTERNAL: worker exited with code 70' });
    expect(formatSummary(plan)).to.contain('2 of 4 students with photos enrolled');
  });

  it('runs no more students at a time than asked, and every one exactly once', async () => {
    const plan = planOf();
    let running = 0;
    let most = 0;
    const calls: string[] = [];
    const results: string[] = [];
    await runBatches(plan, {
      concurrency: 2,
      enrol: async (batch) => {
        calls.push(batch.student.id);
        running++;
        most = Math.max(most, running);
        await new Promise((r) => setImmediate(r));
        running--;
        return { ok: false, code: 'BUSY' };
      },
      onResult: (batch, result) => results.push(`${batch.student.id}:${result.ok}`),
    });
    expect(most).to.equal(2);
    expect(calls).to.have.length(4).and.to.have.members(['u1', 'u2', 'u3', 'u4']);
    expect(results).to.have.members(['u1:false', 'u2:false', 'u3:false', 'u4:false']);
    expect(Object.values(outcomes(plan)).every((x) => x.kind === 'failed' && x.code === 'BUSY' && !('message' in x))).to.equal(true);
  });

  it('lets the other runners finish before passing on a failing callback', async () => {
    const plan = planOf();
    const done: string[] = [];
    let thrown: unknown = null;
    try {
      await runBatches(plan, {
        concurrency: 2,
        enrol: async (batch) => {
          await new Promise((r) => setImmediate(r));
          done.push(batch.student.id);
          return { ok: true, proposed: false };
        },
        onResult: (batch) => {
          if (batch.student.id === 'u1') throw new Error('progress broke');
        },
      });
    } catch (err) {
      thrown = err;
    }
    expect((thrown as Error).message).to.equal('progress broke');
    // The runner of u1 stopped; the other one took every remaining student before the rejection.
    expect(done).to.have.members(['u1', 'u2', 'u3', 'u4']);
  });

  it('marks the students that never ran as failed when the run stops early, and keeps the others', async () => {
    const plan = planOf();
    const u1 = plan.batches.find((b) => b.student.id === 'u1')!;
    await runBatches({ ...plan, batches: [u1] }, { concurrency: 1, enrol: async () => ({ ok: true, proposed: false }) });
    failUnfinished(plan, 'models did not load');
    const o = outcomes(plan);
    expect(o['S001.jpg']).to.deep.equal({ kind: 'enrolled' });
    for (const file of ['S002.jpg', 'S002_2.jpg', 'S003.jpg', 'S004.jpg']) {
      expect(o[file]).to.deep.equal({ kind: 'failed', code: 'INTERNAL', message: 'models did not load' });
    }
  });
});
