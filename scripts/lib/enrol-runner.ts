import { applyResult, type Batch, type BatchResult, type EnrolPlan } from './enrol-plan.js';

export interface RunBatchesOptions {
  /** Students enrolled at the same time: one per worker thread. */
  concurrency: number;
  /** One student's photos through the enrolment service; coded refusals resolve, anything else rejects. */
  enrol: (batch: Batch) => Promise<BatchResult>;
  /** After each batch, once its outcome is in the plan. */
  onResult?: (batch: Batch, result: BatchResult) => void;
  /** An unexpected error of one batch, already recorded in the plan as failed INTERNAL. */
  onError?: (batch: Batch, err: unknown) => void;
}

/**
 * Enrols the plan's batches, `concurrency` at a time, and records each outcome in the plan.
 * An unexpected error (a worker fault, a store error) fails that student only, as INTERNAL
 * with its message, so the other students go on and the report covers all of them. Every
 * runner has stopped when this settles, so the caller may then close the pool.
 */
export async function runBatches(plan: EnrolPlan, options: RunBatchesOptions): Promise<void> {
  let next = 0;
  const runner = async (): Promise<void> => {
    while (next < plan.batches.length) {
      const batch = plan.batches[next++]!;
      let result: BatchResult;
      try {
        result = await options.enrol(batch);
      } catch (err) {
        result = { ok: false, code: 'INTERNAL', message: messageOf(err) };
        options.onError?.(batch, err);
      }
      applyResult(plan, batch, result);
      options.onResult?.(batch, result);
    }
  };
  const runners = Math.max(1, Math.min(options.concurrency, plan.batches.length));
  // allSettled, not all: a failing callback must not leave the other runners working on a closed pool.
  const settled = await Promise.allSettled(Array.from({ length: runners }, runner));
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) throw failed.reason;
}

/**
 * Marks every batch that has not run (its files still 'matched') as failed INTERNAL with
 * `message`: when the run stops early, e.g. the face models do not load, the report must not
 * show those students as "would enrol".
 */
export function failUnfinished(plan: EnrolPlan, message: string): void {
  for (const batch of plan.batches) {
    const pending = batch.files.some((f) => plan.entries.find((e) => e.file === f)?.outcome.kind === 'matched');
    if (pending) applyResult(plan, batch, { ok: false, code: 'INTERNAL', message });
  }
}

export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
