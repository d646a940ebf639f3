import { expect } from 'chai';
import { addressLimitKey, evaluateNetwork, ipInRanges, isValidCidr, normalizeIp, parseCidr } from '../../../src/domain/checks/network.js';
import { clientAddress, compileTrustProxy } from '../../../src/adapters/trust-proxy.js';

/** The client address of a handshake with this peer and X-Forwarded-For, under TRUST_PROXY `trust`. */
function resolveClientIp(
  remoteAddress: string | undefined,
  forwardedFor: string | string[] | undefined,
  trust: boolean | number | string[],
): string | null {
  return clientAddress(remoteAddress, forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor }, compileTrustProxy(trust));
}

describe('network', () => {
  describe('parseCidr / isValidCidr', () => {
    it('parses IPv4 and IPv6 ranges', () => {
      expect(parseCidr('10.0.0.0/8')).to.deep.equal({ family: 4, address: '10.0.0.0', prefix: 8 });
      expect(parseCidr(' 192.168.1.0/24 ')).to.deep.equal({ family: 4, address: '192.168.1.0', prefix: 24 });
      expect(parseCidr('2001:DB8::/32')).to.deep.equal({ family: 6, address: '2001:db8::', prefix: 32 });
      expect(parseCidr('0.0.0.0/0')).to.deep.equal({ family: 4, address: '0.0.0.0', prefix: 0 });
    });

    it('reads a bare address as /32 or /128', () => {
      expect(parseCidr('203.0.113.7')).to.deep.equal({ family: 4, address: '203.0.113.7', prefix: 32 });
      expect(parseCidr('2001:db8::1')).to.deep.equal({ family: 6, address: '2001:db8::1', prefix: 128 });
    });

    it('turns an IPv4-mapped IPv6 range into the IPv4 range', () => {
      expect(parseCidr('::ffff:10.0.0.0/104')).to.deep.equal({ family: 4, address: '10.0.0.0', prefix: 8 });
      expect(parseCidr('::ffff:10.0.0.5')).to.deep.equal({ family: 4, address: '10.0.0.5', prefix: 32 });
      expect(parseCidr('::ffff:0:0/80').family).to.equal(6);
    });

    it('rejects invalid input', () => {
      const invalid = [
        '',
        'x',
        '10.0.0.0/',
        '10.0.0.0/33',
        '10.0.0.0/-1',
        '10.0.0.0/+8',
        '10.0.0.0/8/8',
        '10.0.0.0/ 8',
        '10.0.0/8',
        '256.0.0.0/8',
        '010.0.0.0/8',
        '2001:db8::/129',
        '2001:db8:::/32',
        'fe80::1%eth0/64',
        '10.0.0.0/8.5',
        'localhost',
      ];
      for (const range of invalid) {
        expect(isValidCidr(range), range).to.equal(false);
        expect(() => parseCidr(range), range).to.throw(RangeError);
      }
      expect(isValidCidr('10.0.0.0/8')).to.equal(true);
    });
  });

  describe('normalizeIp', () => {
    it('maps IPv4-mapped IPv6 (dotted, hex and expanded) to IPv4', () => {
      expect(normalizeIp('::ffff:10.0.0.5')).to.equal('10.0.0.5');
      expect(normalizeIp('::FFFF:a00:5')).to.equal('10.0.0.5');
      expect(normalizeIp('0:0:0:0:0:ffff:10.0.0.5')).to.equal('10.0.0.5');
    });

    it('lower-cases IPv6, drops a zone id and rejects non-addresses', () => {
      expect(normalizeIp('2001:DB8::1')).to.equal('2001:db8::1');
      expect(normalizeIp('fe80::1%eth0')).to.equal('fe80::1');
      expect(normalizeIp('::1')).to.equal('::1');
      expect(normalizeIp('1.2.3.4:8080')).to.equal(null);
      expect(normalizeIp('unknown')).to.equal(null);
      expect(normalizeIp('')).to.equal(null);
    });
  });

  describe('ipInRanges', () => {
    it('includes both ends of an IPv4 range and nothing beyond', () => {
      const r = ['10.0.0.0/8'];
      expect(ipInRanges('10.0.0.0', r)).to.equal(true);
      expect(ipInRanges('10.255.255.255', r)).to.equal(true);
      expect(ipInRanges('9.255.255.255', r)).to.equal(false);
      expect(ipInRanges('11.0.0.0', r)).to.equal(false);
      expect(ipInRanges('192.168.1.255', ['192.168.1.0/24'])).to.equal(true);
      expect(ipInRanges('192.168.2.0', ['192.168.1.0/24'])).to.equal(false);
    });

    it('matches a bare address exactly', () => {
      expect(ipInRanges('203.0.113.7', ['203.0.113.7'])).to.equal(true);
      expect(ipInRanges('203.0.113.8', ['203.0.113.7'])).to.equal(false);
      expect(ipInRanges('2001:db8::1', ['2001:db8::1'])).to.equal(true);
      expect(ipInRanges('2001:db8::2', ['2001:db8::1'])).to.equal(false);
    });

    it('matches IPv6 in compressed, expanded and upper-case forms, at both ends', () => {
      const r = ['2001:db8::/32'];
      expect(ipInRanges('2001:db8::', r)).to.equal(true);
      expect(ipInRanges('2001:0DB8:0000:0000:0000:0000:0000:0001', r)).to.equal(true);
      expect(ipInRanges('2001:db8:ffff:ffff:ffff:ffff:ffff:ffff', r)).to.equal(true);
      expect(ipInRanges('2001:db7:ffff:ffff:ffff:ffff:ffff:ffff', r)).to.equal(false);
      expect(ipInRanges('2001:db9::', r)).to.equal(false);
    });

    it('matches IPv4-mapped IPv6 clients against IPv4 ranges and the reverse', () => {
      expect(ipInRanges('::ffff:10.0.0.5', ['10.0.0.0/8'])).to.equal(true);
      expect(ipInRanges('::ffff:a00:5', ['10.0.0.0/8'])).to.equal(true);
      expect(ipInRanges('::ffff:11.0.0.5', ['10.0.0.0/8'])).to.equal(false);
      expect(ipInRanges('10.0.0.5', ['::ffff:10.0.0.0/104'])).to.equal(true);
    });

    it('matches IPv6 ranges at prefixes that split a group, and /128', () => {
      expect(ipInRanges('2001:db8:0:12::1', ['2001:db8:0:10::/60'])).to.equal(true);
      expect(ipInRanges('2001:db8:0:1f:ffff::', ['2001:db8:0:10::/60'])).to.equal(true);
      expect(ipInRanges('2001:db8:0:20::', ['2001:db8:0:10::/60'])).to.equal(false);
      expect(ipInRanges('fe80::1%eth0', ['fe80::/10'])).to.equal(true);
      expect(ipInRanges('fec0::1', ['fe80::/10'])).to.equal(false);
      expect(ipInRanges('::1', ['::1/128'])).to.equal(true);
      expect(ipInRanges('::2', ['::1/128'])).to.equal(false);
      expect(ipInRanges('2001:db8::1', ['2001:db8::1/127'])).to.equal(true);
      expect(ipInRanges('2001:db8::2', ['2001:db8::1/127'])).to.equal(false);
    });

    it('keeps the families apart', () => {
      expect(ipInRanges('10.0.0.5', ['::/0'])).to.equal(false);
      expect(ipInRanges('2001:db8::1', ['0.0.0.0/0'])).to.equal(false);
      expect(ipInRanges('2001:db8::1', ['::/0'])).to.equal(true);
      expect(ipInRanges('8.8.8.8', ['0.0.0.0/0'])).to.equal(true);
    });

    it('never matches an invalid address or an invalid range', () => {
      expect(ipInRanges('not-an-ip', ['0.0.0.0/0', '::/0'])).to.equal(false);
      expect(ipInRanges('10.0.0.5', ['garbage', '10.0.0.0/99'])).to.equal(false);
      expect(ipInRanges('10.0.0.5', ['garbage', '10.0.0.0/8'])).to.equal(true);
      expect(ipInRanges('10.0.0.5', [])).to.equal(false);
    });
  });

  describe('evaluateNetwork', () => {
    const ranges = ['192.168.10.0/24', '2001:db8:10::/48'];

    it('passes an address on an allowed network', () => {
      expect(evaluateNetwork('192.168.10.42', ranges)).to.deep.equal({ outcome: 'pass', reason: 'NETWORK_OK' });
      expect(evaluateNetwork('2001:db8:10:1::9', ranges).outcome).to.equal('pass');
    });

    it('fails an address elsewhere, and a missing address', () => {
      expect(evaluateNetwork('192.168.11.1', ranges)).to.deep.equal({
        outcome: 'fail',
        reason: 'NETWORK_NOT_ALLOWED',
      });
      expect(evaluateNetwork(null, ranges).outcome).to.equal('fail');
      expect(evaluateNetwork(null, ['0.0.0.0/0']).outcome).to.equal('fail');
    });
  });

  describe('client address (proxy-addr under TRUST_PROXY)', () => {
    const proxy = '10.0.0.1';
    // The client sends a spoofed entry; the load balancer appends the address it saw.
    const xff = '6.6.6.6, 198.51.100.7';

    it('false: uses the socket address and ignores a spoofed X-Forwarded-For', () => {
      expect(resolveClientIp('203.0.113.9', '1.2.3.4', false)).to.equal('203.0.113.9');
      expect(resolveClientIp('::ffff:203.0.113.9', xff, false)).to.equal('203.0.113.9');
      expect(resolveClientIp('203.0.113.9', undefined, false)).to.equal('203.0.113.9');
    });

    it('true: takes the left-most entry, or the socket address without a header', () => {
      expect(resolveClientIp(proxy, xff, true)).to.equal('6.6.6.6');
      expect(resolveClientIp(proxy, undefined, true)).to.equal(proxy);
      expect(resolveClientIp(proxy, '', true)).to.equal(proxy);
    });

    it('number: trusts that many hops from the socket', () => {
      expect(resolveClientIp(proxy, xff, 0)).to.equal(proxy);
      expect(resolveClientIp(proxy, xff, 1)).to.equal('198.51.100.7');
      expect(resolveClientIp(proxy, xff, 2)).to.equal('6.6.6.6');
      expect(resolveClientIp(proxy, xff, 5)).to.equal('6.6.6.6');
      expect(resolveClientIp(proxy, undefined, 1)).to.equal(proxy);
    });

    it('list: returns the first untrusted hop from the right', () => {
      const trusted = ['10.0.0.0/8'];
      expect(resolveClientIp(proxy, `${xff}, 10.0.0.2`, trusted)).to.equal('198.51.100.7');
      expect(resolveClientIp(proxy, xff, trusted)).to.equal('198.51.100.7');
      expect(resolveClientIp('::ffff:10.0.0.1', xff, trusted)).to.equal('198.51.100.7');
      expect(resolveClientIp(proxy, '10.9.9.9, 10.0.0.2', trusted)).to.equal('10.9.9.9');
    });

    it('list: ignores X-Forwarded-For when the socket peer is not a trusted proxy', () => {
      expect(resolveClientIp('198.51.100.50', '10.0.0.3', ['10.0.0.0/8'])).to.equal('198.51.100.50');
    });

    it('list: accepts the express subnet names and bare addresses', () => {
      expect(resolveClientIp('::1', '2001:DB8::5', ['loopback'])).to.equal('2001:db8::5');
      expect(resolveClientIp('172.20.0.2', xff, ['uniquelocal'])).to.equal('198.51.100.7');
      expect(resolveClientIp('192.0.2.1', xff, ['192.0.2.1'])).to.equal('198.51.100.7');
      expect(resolveClientIp('192.0.2.2', xff, ['192.0.2.1'])).to.equal('192.0.2.2');
    });

    it('list: throws on an invalid entry', () => {
      expect(() => resolveClientIp(proxy, xff, ['10.0.0.0/99'])).to.throw(RangeError);
    });

    it('reads a header sent several times like one comma-joined header', () => {
      expect(resolveClientIp(proxy, ['6.6.6.6', '198.51.100.7'], 1)).to.equal('198.51.100.7');
      expect(resolveClientIp(proxy, ['6.6.6.6', '198.51.100.7'], true)).to.equal('6.6.6.6');
    });

    it('returns null without a socket address or when the chosen hop is not an address', () => {
      expect(resolveClientIp(undefined, xff, true)).to.equal(null);
      expect(resolveClientIp(proxy, 'unknown', true)).to.equal(null);
      expect(resolveClientIp(proxy, '198.51.100.7:4711', 1)).to.equal(null);
    });
  });

  it('keys per-address limits by the IPv4 address, or the IPv6 /64 whatever its spelling', () => {
    expect(addressLimitKey('198.51.100.7')).to.equal('198.51.100.7');
    expect(addressLimitKey('::ffff:198.51.100.7')).to.equal('198.51.100.7');
    expect(addressLimitKey('2001:db8:42:7::1')).to.equal('2001:db8:42:7::/64');
    expect(addressLimitKey('2001:0DB8:0042:0007:abcd:ef01:2345:6789')).to.equal('2001:db8:42:7::/64');
    expect(addressLimitKey('fe80::1%eth0')).to.equal('fe80:0:0:0::/64');
    expect(addressLimitKey('unknown')).to.equal('unknown');
  });
});
