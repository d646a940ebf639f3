import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { LookupFunction } from 'node:net';
import type { WebhookResponse, WebhookSender } from '../domain/webhooks/webhook-ports.js';
import type { Logger } from '../logger.js';
import { isPublicAddress } from './outbound-address.js';

export interface HttpWebhookSenderOptions {
  /** The whole attempt (connect, send, response) is cut after this. */
  timeoutMs: number;
  /** Let requests reach private, loopback and link-local addresses (WEBHOOK_ALLOW_PRIVATE: tests, development). */
  allowPrivate: boolean;
  /** Name resolution; the system resolver by default (tests map names to addresses). */
  resolve?: (hostname: string) => Promise<{ address: string; family: number }[]>;
  /** Where a refused name's private address is logged: the delivery log only says that it is one. */
  logger?: Pick<Logger, 'warn'>;
}

/** The refusal of a URL whose address is not allowed (server-side request forgery guard). */
export class AddressRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AddressRefusedError';
  }
}

const systemResolve = (hostname: string) => dns.promises.lookup(hostname, { all: true, verbatim: true });

/**
 * Posts a webhook with node's http client: no redirect is followed (a 3xx is the answer), the
 * attempt is bounded by a timeout, and unless allowed the host's every address must be public.
 * The request then connects to the address that was checked, so a second DNS answer cannot
 * swap in an internal one (DNS rebinding); TLS still verifies the certificate for the name.
 */
export class HttpWebhookSender implements WebhookSender {
  private readonly resolve: NonNullable<HttpWebhookSenderOptions['resolve']>;

  constructor(private readonly options: HttpWebhookSenderOptions) {
    this.resolve = options.resolve ?? systemResolve;
  }

  async send(url: string, headers: Record<string, string>, body: string): Promise<WebhookResponse> {
    const target = new URL(url);
    if (target.protocol !== 'http:' && target.protocol !== 'https:')
      throw new AddressRefusedError(`refused: ${target.protocol} is not http or https`);
    const signal = AbortSignal.timeout(this.options.timeoutMs);
    const pinned = await this.address(target.hostname.replace(/^\[|\]$/g, ''));
    const lookup: LookupFunction = (_hostname, opts, callback) => {
      if (opts.all) (callback as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [pinned]);
      else callback(null, pinned.address, pinned.family);
    };
    const client = target.protocol === 'https:' ? https : http;
    return new Promise<WebhookResponse>((resolve, reject) => {
      const req = client.request(
        target,
        {
          method: 'POST',
          headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
          lookup,
          signal,
          agent: false,
        },
        (res) => {
          // Only the status matters; the body is read and dropped so the socket is freed.
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode ?? 0 }));
          res.on('error', reject);
        },
      );
      req.on('error', (err) => reject(signal.aborted ? new Error(`timeout after ${this.options.timeoutMs} ms`) : err));
      req.end(body);
    });
  }

  private async address(host: string): Promise<{ address: string; family: number }> {
    const literal = net.isIP(host);
    const addresses = literal ? [{ address: host, family: literal }] : await this.resolve(host);
    if (addresses.length === 0) throw new Error(`${host} has no address`);
    if (!this.options.allowPrivate) {
      const blocked = addresses.find((a) => !isPublicAddress(a.address));
      if (blocked && literal) throw new AddressRefusedError(`refused: ${host} is a private, loopback or link-local address`);
      if (blocked) {
        // The admin reading the delivery log learns that the name is internal, not where it points
        // (which would map the internal DNS for whoever can add an endpoint); the operator's log does.
        this.options.logger?.warn({ host, address: blocked.address }, 'webhook host refused: it resolves to a private address');
        throw new AddressRefusedError(`refused: ${host} resolves to a private, loopback or link-local address`);
      }
    }
    return addresses[0]!;
  }
}
