import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { AddressRefusedError, HttpWebhookSender } from '../../../src/adapters/http-webhook-sender.js';
import { isPublicAddress } from '../../../src/adapters/outbound-address.js';

/** A local receiver answering each request with `answer` (or never, when it returns null). */
async function receiver(answer: (req: http.IncomingMessage) => { status: number; headers?: Record<string, string> } | null) {
  const hits: { url: string; body: string }[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      hits.push({ url: req.url ?? '', body });
      const a = answer(req);
      if (a) res.writeHead(a.status, a.headers).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    hits,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  return expect.fail('expected a rejection');
}

describe('outbound webhook requests (SSRF guard, redirects, timeout)', () => {
  it('classifies only global unicast addresses as public', () => {
    for (const a of [
      '127.0.0.1',
      '10.1.2.3',
      '172.16.0.1',
      '192.168.1.1',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
      '::1',
      '::',
      'fe80::1',
      'fd00::1',
      'fc00::1',
      '::ffff:127.0.0.1',
      '::ffff:10.0.0.1',
      '224.0.0.1',
      'not-an-ip',
    ]) {
      expect(isPublicAddress(a), a).to.equal(false);
    }
    for (const a of ['93.184.216.34', '8.8.8.8', '2606:4700:4700::1111', '::ffff:8.8.8.8']) {
      expect(isPublicAddress(a), a).to.equal(true);
    }
  });

  describe('with private addresses refused (the default)', () => {
    let rx: Awaited<ReturnType<typeof receiver>>;
    beforeEach(async () => {
      rx = await receiver(() => ({ status: 200 }));
    });
    afterEach(() => rx.close());

    it('refuses loopback, private, link-local and unique-local literals without connecting', async () => {
      const sender = new HttpWebhookSender({ timeoutMs: 2_000, allowPrivate: false });
      for (const host of ['127.0.0.1', '10.0.0.1', '[::1]', '169.254.169.254', '[fd12::1]', '[::ffff:127.0.0.1]']) {
        const err = await rejection(sender.send(`http://${host}:${rx.port}/hook`, {}, '{}'));
        expect(err, host).to.be.instanceOf(AddressRefusedError);
      }
      expect(rx.hits).to.deep.equal([]);
    });

    it('refuses a name when any of its addresses is private (checked after DNS), naming the address only in the server log', async () => {
      const resolved: string[] = [];
      const warnings: unknown[] = [];
      const sender = new HttpWebhookSender({
        timeoutMs: 2_000,
        allowPrivate: false,
        logger: { warn: (obj: unknown) => void warnings.push(obj) },
        resolve: async (host) => {
          resolved.push(host);
          return [
            { address: '93.184.216.34', family: 4 },
            { address: '127.0.0.1', family: 4 },
          ];
        },
      });
      const err = await rejection(sender.send(`http://hooks.example.test:${rx.port}/hook`, {}, '{}'));
      expect(err).to.be.instanceOf(AddressRefusedError);
      expect(err.message).to.equal('refused: hooks.example.test resolves to a private, loopback or link-local address');
      expect(warnings).to.deep.equal([{ host: 'hooks.example.test', address: '127.0.0.1' }]);
      expect(resolved).to.deep.equal(['hooks.example.test']);
      expect(rx.hits).to.deep.equal([]);
    });

    it('refuses schemes other than http and https', async () => {
      const sender = new HttpWebhookSender({ timeoutMs: 2_000, allowPrivate: false });
      expect(await rejection(sender.send('file:///etc/passwd', {}, '{}'))).to.be.instanceOf(AddressRefusedError);
    });
  });

  describe('with private addresses allowed (WEBHOOK_ALLOW_PRIVATE)', () => {
    it('posts the body and headers and connects to the address it checked', async () => {
      const rx = await receiver(() => ({ status: 204 }));
      try {
        // The name resolves (once) to the receiver's loopback address; the request goes there.
        const sender = new HttpWebhookSender({
          timeoutMs: 2_000,
          allowPrivate: true,
          resolve: async () => [{ address: '127.0.0.1', family: 4 }],
        });
        const res = await sender.send(`http://receiver.test:${rx.port}/hook?x=1`, { 'x-test': 'yes' }, '{"a":1}');
        expect(res.status).to.equal(204);
        expect(rx.hits).to.deep.equal([{ url: '/hook?x=1', body: '{"a":1}' }]);
      } finally {
        await rx.close();
      }
    });

    it('does not follow a redirect: the 3xx is the answer', async () => {
      const rx = await receiver((req) => (req.url === '/hook' ? { status: 302, headers: { location: '/elsewhere' } } : { status: 200 }));
      try {
        const sender = new HttpWebhookSender({ timeoutMs: 2_000, allowPrivate: true });
        expect((await sender.send(`http://127.0.0.1:${rx.port}/hook`, {}, '{}')).status).to.equal(302);
        expect(rx.hits.map((h) => h.url)).to.deep.equal(['/hook']);
      } finally {
        await rx.close();
      }
    });

    it('gives up on a receiver that does not answer within the timeout', async () => {
      const rx = await receiver(() => null);
      try {
        const sender = new HttpWebhookSender({ timeoutMs: 150, allowPrivate: true });
        const err = await rejection(sender.send(`http://127.0.0.1:${rx.port}/hook`, {}, '{}'));
        expect(err.message).to.equal('timeout after 150 ms');
      } finally {
        await rx.close();
      }
    });
  });
});
