// Run by test/unit/test-reporter.test.ts, never by the suite.
describe('a suite that ends cleanly', () => {
  it('passes', () => {});
  it.skip('is skipped', () => {});
});
