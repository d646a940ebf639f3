/**
 * A benchmark's view of a child node's heap after a full garbage collection, over the IPC
 * channel of a forked or spawned child (never an HTTP route: nothing here is reachable from
 * the network, and a production node never loads this file).
 *
 * The child preloads it: `node --expose-gc --import tsx --import ./scripts/lib/memory-probe.ts
 * src/index.ts`, with MEMORY_PROBE=1 in its environment and an IPC channel
 * (`stdio: [..., 'ipc']`). The parent calls readMemory(child).
 */
import type { ChildProcess } from 'node:child_process';
import { writeHeapSnapshot } from 'node:v8';

export interface MemorySample {
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
  rss: number;
  /** Open TCP handles (the listening socket and every connection), to tell when closes have landed. */
  tcpHandles: number;
}

interface ProbeRequest {
  type: 'memory-probe';
  id: number;
  /** false: no collection, just the figures (cheap, for polling). */
  collect: boolean;
  /** Also writes a heap snapshot (after the collection) to this file. */
  snapshot?: string;
}

interface ProbeReply {
  type: 'memory-probe:reply';
  id: number;
  sample?: MemorySample;
  error?: string;
}

const isRequest = (m: unknown): m is ProbeRequest => typeof m === 'object' && m !== null && (m as ProbeRequest).type === 'memory-probe';
const isReply = (m: unknown): m is ProbeReply => typeof m === 'object' && m !== null && (m as ProbeReply).type === 'memory-probe:reply';

function sample(): MemorySample {
  const { heapUsed, heapTotal, external, arrayBuffers, rss } = process.memoryUsage();
  const tcpHandles = process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap' || r === 'TCPServerWrap').length;
  return { heapUsed, heapTotal, external, arrayBuffers, rss, tcpHandles };
}

/** Collects until the heap stops shrinking: finalizers and weak maps free more on a second pass. */
async function settledSample(gc: () => void): Promise<MemorySample> {
  let last = Number.POSITIVE_INFINITY;
  for (let pass = 0; pass < 5; pass += 1) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
    const used = process.memoryUsage().heapUsed;
    if (used >= last * 0.999) break;
    last = used;
  }
  return sample();
}

/** Answers probes in this process; refuses to start without the opt-in, the channel or --expose-gc. */
export function installMemoryProbe(): void {
  const send = process.send?.bind(process);
  if (process.env['MEMORY_PROBE'] !== '1' || !send) return;
  const gc = (globalThis as { gc?: () => void }).gc;
  process.on('message', (m: unknown) => {
    if (!isRequest(m)) return;
    if (!m.collect) {
      send({ type: 'memory-probe:reply', id: m.id, sample: sample() } satisfies ProbeReply);
      return;
    }
    if (!gc) {
      send({ type: 'memory-probe:reply', id: m.id, error: 'start the node with --expose-gc' } satisfies ProbeReply);
      return;
    }
    settledSample(gc).then(
      (sample) => {
        if (m.snapshot) writeHeapSnapshot(m.snapshot);
        send({ type: 'memory-probe:reply', id: m.id, sample } satisfies ProbeReply);
      },
      (err: unknown) => send({ type: 'memory-probe:reply', id: m.id, error: String(err) } satisfies ProbeReply),
    );
  });
  // The channel must not keep a node alive that its own shutdown would otherwise end.
  process.channel?.unref();
}

let nextId = 1;

/**
 * Asks the child for a sample, after a full GC unless `collect` is false, and a heap snapshot
 * written by the child when `snapshot` names a file; rejects after `timeoutMs`.
 */
export function readMemory(
  child: ChildProcess,
  { collect = true, timeoutMs = 30_000, snapshot }: { collect?: boolean; timeoutMs?: number; snapshot?: string } = {},
): Promise<MemorySample> {
  const id = nextId++;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.off('message', onMessage);
      reject(new Error('memory probe: no answer (is MEMORY_PROBE=1 set and the probe preloaded?)'));
    }, timeoutMs);
    const onMessage = (m: unknown) => {
      if (!isReply(m) || m.id !== id) return;
      clearTimeout(timer);
      child.off('message', onMessage);
      if (m.sample) resolve(m.sample);
      else reject(new Error(`memory probe: ${m.error ?? 'no sample'}`));
    };
    child.on('message', onMessage);
    child.send({ type: 'memory-probe', id, collect, ...(snapshot ? { snapshot } : {}) } satisfies ProbeRequest);
  });
}

/** Polls (without collecting) until the child holds at most `tcpHandles` TCP handles. */
export async function waitForHandles(child: ChildProcess, tcpHandles: number, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { tcpHandles: open } = await readMemory(child, { collect: false });
    if (open <= tcpHandles) return;
    if (Date.now() > deadline) throw new Error(`memory probe: still ${open} TCP handles, waited for ${tcpHandles}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

installMemoryProbe();
