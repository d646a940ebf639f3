import type { Role } from '../../src/shared/events.js';
import { startNodes, type TestNode } from './nodes.js';
import type { RedisSuite } from './redis-server.js';
import { connectClient, type ClientSocket } from './sockets.js';

export type StartNodesOptions = Omit<Parameters<typeof startNodes>[1], 'redisUrl'>;

export interface NodesInTest {
  /** Starts `n` nodes behind the suite's Redis (startNodes) for the current test. */
  start(n: number, opts: StartNodesOptions): Promise<TestNode[]>;
  /** A socket of `user` on `node`, with an access token any of the test's nodes accepts. */
  client(node: TestNode, user: { id: string; orgId: string; role: Role }): Promise<ClientSocket>;
}

/**
 * Nodes started inside a test behind the suite's Redis: after each test every socket it opened
 * through `client` is disconnected and every node closed, so the next test starts clean.
 */
export function useNodes(suite: RedisSuite): NodesInTest {
  let cleanup: (() => Promise<void>) | null = null;
  const sockets: ClientSocket[] = [];
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.disconnect();
    await cleanup?.();
    cleanup = null;
  });
  return {
    async start(n, opts) {
      const started = await startNodes(n, { redisUrl: suite.redis.url, ...opts });
      cleanup = started.cleanup;
      return started.nodes;
    },
    async client(node, user) {
      const socket = await connectClient(node.url, node.app.tokenService.signAccess(user).token);
      sockets.push(socket);
      return socket;
    },
  };
}
