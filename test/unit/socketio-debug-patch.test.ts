import { expect } from 'chai';
import { createRequire } from 'node:module';

// The `debug` copies the socket layer loads, as scripts/patches/*debug*.patch leaves them: a
// disabled call returns before its arguments become an array (published, `debug(...args)`
// gathered them first, on every packet, with DEBUG unset: about 1.2 KB of garbage per check-in),
// and an enabled one still prints what it printed.

const require = createRequire(import.meta.url);

interface Debugger {
  (...args: unknown[]): void;
  enabled: boolean;
  useColors: boolean;
  log: (...args: unknown[]) => void;
}
type CreateDebug = ((namespace: string) => Debugger) & { formatters: Record<string, unknown> };

/** The `debug` module `pkg` itself requires (each of these packages has its own copy). */
function debugOf(pkg: string): CreateDebug {
  return createRequire(require.resolve(pkg))('debug') as CreateDebug;
}

const LOADED_BY = ['socket.io', 'engine.io', 'socket.io-parser', 'socket.io-adapter', '@socket.io/redis-adapter'];

describe('debug, as the socket layer loads it (scripts/patches)', () => {
  for (const pkg of LOADED_BY) {
    it(`${pkg}: checks whether it is enabled before gathering its arguments`, () => {
      const debug = debugOf(pkg)('attendance:test');
      expect(String(debug)).to.match(/^function debug\(\) \{\s*\/\/ Disabled\?\s*if \(!debug\.enabled\) \{\s*return;/);
    });

    it(`${pkg}: prints as before once enabled, and nothing while disabled`, () => {
      const debug = debugOf(pkg)('attendance:test');
      const printed: unknown[][] = [];
      debug.log = (...args: unknown[]) => void printed.push(args);
      debug.useColors = false;
      debug('hidden %s', 'x');
      expect(printed).to.deep.equal([]);
      // The debugger's own override: no DEBUG namespaces changed for the rest of the process.
      debug.enabled = true;
      debug('writing %s of %d bytes (%o)', 'packet', 42, { a: 1 }, 'extra');
      debug({ plain: true });
      // What the published module prints: its own formatters (%o, %O) applied, the rest left to util.format.
      expect(printed).to.have.length(2);
      expect(printed[0]![0]).to.match(/ attendance:test writing %s of %d bytes \(\{ a: 1 \}\)$/);
      expect(printed[0]!.slice(1)).to.deep.equal(['packet', 42, 'extra']);
      expect(printed[1]).to.have.length(1);
      expect(printed[1]![0]).to.match(/ attendance:test \{ plain: true \}$/);
    });
  }
});
