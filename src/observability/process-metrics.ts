import { readdir } from 'node:fs/promises';
import { collectDefaultMetrics, Gauge, type Registry } from 'prom-client';

/**
 * prom-client's default metrics that walk every handle or file descriptor of the process on the
 * event loop at each scrape: with 2,000 sockets a scrape blocked the node for 20 to 100 ms
 * (`readdirSync('/proc/self/fd')` most of it), and every check-in in flight waited for it.
 */
const WALKING_DEFAULTS = [
  'process_open_fds',
  'nodejs_active_handles',
  'nodejs_active_handles_total',
  'nodejs_active_resources',
  'nodejs_active_resources_total',
] as const;

/** One walk of the process's resources serves the scrape's two gauges (they are collected back to back). */
const RESOURCES_FRESH_MS = 100;

/**
 * Process CPU, memory, GC and event-loop lag (nodejs_eventloop_lag_* seconds): prom-client's
 * defaults, but for those that walk every handle on the event loop. `process_open_fds` is read
 * off the event loop (an asynchronous readdir on libuv's pool); `nodejs_active_resources` and its
 * `_total` come from one `process.getActiveResourcesInfo()` per scrape; `nodejs_active_handles`
 * and its `_total` (the older view of the same, a JavaScript object per handle) are not served.
 */
export function registerProcessMetrics(registry: Registry): void {
  collectDefaultMetrics({ register: registry });
  for (const name of WALKING_DEFAULTS) registry.removeSingleMetric(name);
  if (process.platform === 'linux') {
    new Gauge({
      name: 'process_open_fds',
      help: 'Number of open file descriptors.',
      registers: [registry],
      async collect() {
        try {
          this.set((await readdir('/proc/self/fd')).length - 1); // less the one readdir opened
        } catch {
          // No /proc (a restricted container): the gauge stays at its last value, as prom-client's did.
        }
      },
    });
  }
  let walked: { at: number; byType: Map<string, number>; total: number } | null = null;
  const resources = () => {
    const at = performance.now();
    if (walked && at - walked.at < RESOURCES_FRESH_MS) return walked;
    const byType = new Map<string, number>();
    const all = process.getActiveResourcesInfo();
    for (const type of all) byType.set(type, (byType.get(type) ?? 0) + 1);
    walked = { at, byType, total: all.length };
    return walked;
  };
  new Gauge({
    name: 'nodejs_active_resources',
    help: 'Number of active resources that are currently keeping the event loop alive, grouped by async resource type.',
    labelNames: ['type'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [type, n] of resources().byType) this.set({ type }, n);
    },
  });
  new Gauge({
    name: 'nodejs_active_resources_total',
    help: 'Total number of active resources.',
    registers: [registry],
    collect() {
      this.set(resources().total);
    },
  });
}
