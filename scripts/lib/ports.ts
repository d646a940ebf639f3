import { readFileSync } from 'node:fs';
import net from 'node:net';

// A port found free and then handed to a server is not reserved in between. Ports of the
// ephemeral range are the worst choice: the kernel gives them to every outgoing connection of
// the machine (another test's, another program's), so one may be taken a moment later. Where the
// code under test can bind port 0 and say which it got, tests do that; where a port must be named
// before anything listens (a child process, nginx, Caddy, PUBLIC_URL, the load test's nodes and
// Redis), it comes from here: below the ephemeral range, where only a program choosing a port on
// purpose binds, and a start that still finds it taken is tried again on another.

/** Lowest port chosen here: under it are the well-known and registered services of a machine. */
const LOWEST = 10_000;

/** The kernel's range for outgoing connections (Linux), or its usual default where unreadable. */
export function ephemeralRange(): { low: number; high: number } {
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (low !== undefined && high !== undefined && Number.isInteger(low) && Number.isInteger(high)) return { low, high };
  } catch (err) {
    // Not Linux: the range Linux ships with is the usual one (the fallback is said in the comment above).
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  return { low: 32_768, high: 60_999 };
}

/** Ports outside the ephemeral range to choose from: below it when there is room, else above it. */
function choosable(): { from: number; to: number } {
  const { low, high } = ephemeralRange();
  if (low - LOWEST >= 5_000) return { from: LOWEST, to: low - 1 };
  return { from: high + 1, to: 65_535 };
}

/** Whether `port` can be bound on loopback now (false when taken). */
function bindable(port: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE' || err.code === 'EACCES') resolve(false);
      else reject(err);
    });
    probe.listen({ port, host: '127.0.0.1', exclusive: true }, () => probe.close(() => resolve(true)));
  });
}

/** A loopback port outside the ephemeral range that was free when looked at, not one of `besides`. */
export async function freePort(besides: readonly number[] = []): Promise<number> {
  const { from, to } = choosable();
  for (let tries = 0; tries < 200; tries++) {
    const port = from + Math.floor(Math.random() * (to - from + 1));
    if (!besides.includes(port) && (await bindable(port))) return port;
  }
  throw new Error(`no free loopback port between ${from} and ${to} in 200 tries`);
}

/**
 * Whether `err` says a port was taken: Node's code, or the words a child process logged (redis,
 * nginx, Caddy: the system's; this service's node: its own refusal, src/index.ts listenRefusal).
 */
export function addressInUse(err: unknown): boolean {
  if ((err as NodeJS.ErrnoException | null)?.code === 'EADDRINUSE') return true;
  return err instanceof Error && /address already in use|another program uses that port/i.test(err.message);
}

/**
 * Runs `start` with `count` distinct free ports (see freePort), and again with others while it
 * fails because one was taken before it bound; any other failure is thrown at once.
 */
export async function onFreePorts<T>(count: number, start: (ports: number[]) => Promise<T>, tries = 5): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const ports: number[] = [];
    while (ports.length < count) ports.push(await freePort(ports));
    try {
      return await start(ports);
    } catch (err) {
      if (!addressInUse(err) || attempt >= tries) throw err;
    }
  }
}

/** onFreePorts for one port. */
export function onFreePort<T>(start: (port: number) => Promise<T>, tries?: number): Promise<T> {
  return onFreePorts(1, ([port]) => start(port!), tries);
}
