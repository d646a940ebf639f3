import type { Context } from 'mocha';

/**
 * Skips the current suite (from a `before` hook) or test, recording why, so the reporter
 * (test/support/reporter.cjs) names the suite and the missing server or tool in its totals.
 */
export function skipBecause(ctx: Context, reason: string): never {
  // In a hook `ctx.test` is the hook: the reason belongs to its suite, whose tests it skips.
  const runnable = ctx.test as (Mocha.Runnable & { type?: string }) | undefined;
  const target = runnable?.type === 'hook' ? runnable.parent : runnable;
  if (target) Object.assign(target, { skipReason: reason });
  ctx.skip();
}
