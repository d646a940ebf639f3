/**
 * Runs every suite's tests and nested suites in reverse order, to prove that no case needs an
 * earlier one: `npx mocha --file test/support/reverse-order.ts test/integration/x.test.ts`.
 * Mocha reads a suite's lists only when it starts running it, after the root `before` hooks.
 */
import type { Suite } from 'mocha';

function reverse(suite: Suite): void {
  suite.tests.reverse();
  suite.suites.reverse();
  for (const child of suite.suites) reverse(child);
}

before(function () {
  let root: Suite | undefined = this.test?.parent;
  while (root?.parent) root = root.parent;
  if (root) reverse(root);
});
