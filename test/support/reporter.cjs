'use strict';
// Mocha's spec output followed by totals that reconcile, and last one plain line
// `N passed, N failed, N skipped`, which is the line CI reads (mocha's own summary is not).
//
// Every test of the run lands in exactly one of: passed, failed, skipped, or not run because a
// hook of its suite failed (mocha reports such a hook as one failure and silently drops the
// tests behind it). On the last line the tests not run count as failed, and so does a failed
// hook that kept no test from running (an `after` hook), so `failed` is never 0 when something
// went wrong and `passed + failed + skipped` is the number of tests whenever no such hook failed.
// Each test not run is named under the hook that kept it from running. A suite skipped because
// a server or tool is absent (test/support/skip.ts) is named with why.
const Mocha = require('mocha');
const { setTimeout } = require('node:timers');
const { EVENT_RUN_END, EVENT_TEST_FAIL, EVENT_TEST_PASS, EVENT_TEST_PENDING } = Mocha.Runner.constants;
/** Tests named under each failed hook; beyond this many the rest are counted, so a broken suite of hundreds stays readable. */
const NAMED_NOT_RUN = 20;

/** The reason recorded by skipBecause on the test or its nearest suite, if any. */
function skipReason(test) {
  for (let node = test; node; node = node.parent) {
    if (typeof node.skipReason === 'string') return { where: node, reason: node.skipReason };
  }
  return null;
}

function titleOf(node) {
  return node.fullTitle ? node.fullTitle() || '{root}' : '{root}';
}

/** How long the process may take to exit by itself once the last test has settled (TEST_EXIT_GRACE_MS overrides). */
const EXIT_GRACE_MS = Number(process.env.TEST_EXIT_GRACE_MS) || 30_000;

/**
 * Mocha runs without --exit, so that a test leaking a server, socket, timer or child process
 * shows. Such a leak would otherwise keep the run alive until CI's own time limit with every
 * result already printed: after a grace period this names what is still open, counts the leak as
 * one failure, repeats the closing line and exits. The timer is unref'd: a run that ends by itself
 * never waits for it.
 */
function exitIfKeptAlive(passed, failed, skipped) {
  setTimeout(() => {
    const open = new Map();
    for (const kind of process.getActiveResourcesInfo()) open.set(kind, (open.get(kind) ?? 0) + 1);
    const named = [...open].map(([kind, n]) => `${kind} ×${n}`).join(', ');
    process.stdout.write(
      `\nthe test process did not exit within ${EXIT_GRACE_MS / 1000} s of the last test; still open: ${named || 'nothing named'}\n` +
        `${passed} passed, ${failed + 1} failed, ${skipped} skipped\n`,
    );
    // Mocha sets the exit code from its own count in an 'exit' listener; this one runs after it.
    process.on('exit', () => {
      process.exitCode = 1;
    });
    process.exit(1);
  }, EXIT_GRACE_MS).unref();
}

class PlainSummaryReporter extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    let passed = 0;
    let failedTests = 0;
    const skipped = new Map(); // where -> { reason, count }
    let skippedCount = 0;
    const failedHooks = [];

    const outcome = new Map(); // test -> 'passed' | 'failed' | 'skipped'

    runner.on(EVENT_TEST_PASS, (test) => {
      passed += 1;
      outcome.set(test, 'passed');
    });
    runner.on(EVENT_TEST_FAIL, (runnable) => {
      if (runnable.type === 'hook') {
        failedHooks.push(runnable);
        return;
      }
      // An error can arrive after a test passed: it counts once, as failed.
      const before = outcome.get(runnable);
      if (before === 'failed') return;
      if (before === 'passed') passed -= 1;
      failedTests += 1;
      outcome.set(runnable, 'failed');
    });
    runner.on(EVENT_TEST_PENDING, (test) => {
      if (outcome.has(test)) return;
      outcome.set(test, 'skipped');
      skippedCount += 1;
      const found = skipReason(test);
      const key = found ? found.where : test.parent;
      const entry = skipped.get(key) ?? { reason: found ? found.reason : null, count: 0 };
      entry.count += 1;
      skipped.set(key, entry);
    });

    runner.once(EVENT_RUN_END, () => {
      const selected = (test) => {
        const match = runner._grep.test(test.fullTitle());
        return runner._invert ? !match : match;
      };
      // The tests behind each failed hook: those of its suite (and nested suites) that never settled.
      const notRun = new Set();
      const hookLines = [];
      for (const hook of failedHooks) {
        const tests = [];
        hook.parent.eachTest((test) => {
          if (!selected(test) || outcome.has(test) || notRun.has(test)) return;
          notRun.add(test);
          tests.push(test);
        });
        hookLines.push({ hook, count: tests.length, tests });
      }
      const total = runner.grepTotal(runner.suite);
      const unaccounted = Math.max(0, total - passed - failedTests - skippedCount - notRun.size);
      const blockingNothing = hookLines.filter((h) => h.count === 0).length;

      const out = [''];
      out.push(
        `${total} tests: ${passed} passed, ${failedTests} failed, ${skippedCount} skipped, ` +
          `${notRun.size} not run because a hook failed` +
          (unaccounted ? `, ${unaccounted} neither ran nor were skipped` : ''),
      );
      for (const { hook, count, tests } of hookLines) {
        out.push(`  hook failed: ${hook.title} (suite "${titleOf(hook.parent)}"): ${count} test${count === 1 ? '' : 's'} not run`);
        for (const test of tests.slice(0, NAMED_NOT_RUN)) out.push(`    not run: ${test.fullTitle()}`);
        if (count > NAMED_NOT_RUN) out.push(`    not run: ${count - NAMED_NOT_RUN} more in "${titleOf(hook.parent)}"`);
      }
      for (const [where, { reason, count }] of skipped) {
        out.push(`  skipped ${count} in "${titleOf(where)}": ${reason ?? 'marked skip, no reason given'}`);
      }
      const failed = failedTests + notRun.size + blockingNothing + unaccounted;
      const summary = `${passed} passed, ${failed} failed, ${skippedCount} skipped`;
      out.push(summary);
      process.stdout.write(`${out.join('\n')}\n`);
      exitIfKeptAlive(passed, failed, skippedCount);
    });
  }
}
module.exports = PlainSummaryReporter;
