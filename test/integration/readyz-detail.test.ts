import path from 'node:path';
import { expect } from 'chai';
import { startTestServer, type TestServer } from '../support/http.js';
import { onFreePort } from '../../scripts/lib/ports.js';
import { useRedis } from '../support/redis-server.js';
import { startNodes, type StartedNodes } from '../support/nodes.js';
import { FakeFaceEngine } from '../support/fake-face-engine.js';

const TOKEN = 'metrics-token-for-readyz-test';
// What Node says when an embedder's package is missing: the server's install paths in full.
const LOAD_ERROR = "Cannot find package 'faceplugin-face-recognition-js' imported from /srv/attendance/dist/face/embedders/faceplugin.js";

// The public /readyz names the check that fails and not why (server paths); the operator sees the
// why with the metrics token, and on the metrics port kept off the public network.
describe('/readyz: what failed in public, why for the operator', function () {
  this.timeout(20_000);
  let srv: TestServer;
  let metricsPort: number;

  before(async () => {
    const face = new FakeFaceEngine({ status: { ready: false, loadError: LOAD_ERROR } });
    srv = await onFreePort((port) => {
      metricsPort = port;
      return startTestServer({ METRICS_TOKEN: TOKEN, METRICS_PORT: String(port) }, { face });
    });
  });
  after(() => srv?.cleanup());

  it('answers 503 naming the face models as failed, with no path, to anyone', async () => {
    for (const headers of [{}, { authorization: 'Bearer wrong-token-of-the-same-len' }]) {
      const res = await fetch(`${srv.baseUrl}/readyz`, { headers });
      expect(res.status).to.equal(503);
      const text = await res.text();
      expect(text).not.to.contain('/srv/');
      expect(text).not.to.contain('faceplugin-face-recognition-js');
      const body = JSON.parse(text) as Record<string, Record<string, unknown>>;
      expect(body['face']).to.include({ ok: false, loadError: 'models_failed', backend: 'wasm' });
      expect(body['store']).to.include({ ok: true });
    }
  });

  it('shows the load error in full to the bearer of METRICS_TOKEN and on the metrics port', async () => {
    const withToken = await fetch(`${srv.baseUrl}/readyz`, { headers: { authorization: `Bearer ${TOKEN}` } });
    const own = await fetch(`http://127.0.0.1:${metricsPort}/readyz`);
    for (const res of [withToken, own]) {
      expect(res.status).to.equal(503);
      const body = (await res.json()) as Record<string, Record<string, unknown>>;
      expect(body['face']).to.include({ ok: false, loadError: LOAD_ERROR });
    }
  });
});

// The Redis check's target is an address inside the deployment (host, port, database): not for
// the public probe, which says only whether Redis answers.
describe('/readyz behind Redis: the Redis address for the operator only', function () {
  this.timeout(30_000);
  const suite = useRedis('readyz-detail');
  let cluster: StartedNodes;

  before(async () => {
    cluster = await startNodes(1, {
      redisUrl: suite.redis.url,
      sqlitePath: path.join(suite.dir, 'attendance.db'),
      env: { METRICS_TOKEN: TOKEN },
    });
  });
  suite.beforeStop(() => cluster?.cleanup());

  it('answers the public probe without the Redis host and port, the bearer of METRICS_TOKEN with them', async () => {
    const node = cluster.nodes[0]!;
    const { host, port } = new URL(suite.redis.url);
    const pub = await fetch(`${node.url}/readyz`);
    const text = await pub.text();
    expect(pub.status).to.equal(200);
    expect((JSON.parse(text) as Record<string, unknown>)['redis']).to.deep.equal({ ok: true });
    expect(text).not.to.contain(host);
    expect(text).not.to.contain(`:${port}`);

    const operator = await fetch(`${node.url}/readyz`, { headers: { authorization: `Bearer ${TOKEN}` } });
    const body = (await operator.json()) as Record<string, Record<string, unknown>>;
    expect(body['redis']).to.include({ ok: true });
    expect(String(body['redis']!['target'])).to.contain(`:${port}`);
  });
});
