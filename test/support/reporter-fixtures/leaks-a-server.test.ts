import net from 'node:net';

// Run by test/unit/test-reporter.test.ts, never by the suite: a passing test that leaves a
// listening server behind, which keeps the process alive.
describe('a suite that leaks', () => {
  it('passes and leaves a server listening', async () => {
    await new Promise<void>((resolve) => net.createServer().listen(0, '127.0.0.1', resolve));
  });
});
