// Tests are TypeScript run through tsx; the reporter prints the plain closing line CI reads.
module.exports = {
  spec: ['test/unit/**/*.test.ts', 'test/contract/**/*.test.ts', 'test/integration/**/*.test.ts'],
  'node-option': ['import=tsx'],
  reporter: require.resolve('./test/support/reporter.cjs'),
  timeout: 20_000,
  slow: 1_000,
  exit: true,
};
