// Tests are TypeScript run through tsx; the reporter prints the plain closing line CI reads.
// Mocha merges a config `spec` with files named on the command line, so the default suite
// applies only when no test file is named (`npx mocha test/unit/x.test.ts` runs just that).
const named = process.argv.slice(2).some((a) => /\.test\.ts$|\*/.test(a));
module.exports = {
  ...(named
    ? {}
    : { spec: ['test/unit/**/*.test.ts', 'test/contract/**/*.test.ts', 'test/integration/**/*.test.ts', 'test/docs-client/**/*.test.ts'] }),
  'node-option': ['import=tsx'],
  reporter: require.resolve('./test/support/reporter.cjs'),
  timeout: 20_000,
  slow: 1_000,
};
