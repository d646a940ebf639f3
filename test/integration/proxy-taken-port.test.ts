import { expect } from 'chai';
import net from 'node:net';
import { caddyAvailable, startLanCaddy } from '../support/caddy.js';
import { nginxBinary, siteConf, startNginx } from '../support/nginx.js';
import { addressInUse, freePort } from '../../scripts/lib/ports.js';
import { skipBecause } from '../support/skip.js';

/** Another program on `port`: it accepts connections and never says a word. */
function silentListener(port: number): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer(() => {});
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

async function refusal(start: () => Promise<{ stop(): Promise<void> }>): Promise<unknown> {
  try {
    const proxy = await start();
    await proxy.stop();
  } catch (err) {
    return err;
  }
  return expect.fail('the proxy started on a port another program holds');
}

// The proxies of the deployment tests name their ports before binding them (scripts/lib/ports.ts):
// one taken meanwhile must end the start with words onFreePorts recognises, so it tries others.
describe('a reverse proxy whose HTTPS port another program took', function () {
  this.timeout(30_000);
  const upstreams = ['127.0.0.1:9'];
  let holder: net.Server | null = null;
  afterEach(() => holder?.close());

  it('nginx: the start fails saying the address is in use, without waiting on the silent program', async function () {
    if (!nginxBinary()) skipBecause(this, 'nginx is not installed (scripts/test-setup.sh installs it with apt-get)');
    const httpPort = await freePort();
    const httpsPort = await freePort([httpPort]);
    holder = await silentListener(httpsPort);
    const err = await refusal(() =>
      startNginx({ names: ['site.test'], httpPort, httpsPort, conf: (paths) => siteConf({ upstreams, httpPort, httpsPort }, paths) }),
    );
    expect(addressInUse(err), String(err)).to.equal(true);
  });

  it('Caddy: the start fails saying the address is in use, without waiting on the silent program', async function () {
    if (!caddyAvailable()) skipBecause(this, 'caddy is not installed (scripts/test-setup.sh installs it with apt-get)');
    const httpPort = await freePort();
    const httpsPort = await freePort([httpPort]);
    holder = await silentListener(httpsPort);
    const err = await refusal(() => startLanCaddy({ upstreams, siteAddress: 'localhost', httpPort, httpsPort }));
    expect(addressInUse(err), String(err)).to.equal(true);
  });
});
