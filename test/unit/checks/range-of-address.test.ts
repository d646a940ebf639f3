import { expect } from 'chai';
import { isValidCidr, ipInRanges, rangeOfAddress } from '../../../src/domain/checks/network.js';

describe('rangeOfAddress ("add my current network")', () => {
  it('proposes the IPv4 address itself, also for an IPv4-mapped IPv6 address', () => {
    expect(rangeOfAddress('203.0.113.7')).to.equal('203.0.113.7/32');
    expect(rangeOfAddress('::ffff:203.0.113.7')).to.equal('203.0.113.7/32');
  });

  it('proposes the /64 of an IPv6 address, which the network check then accepts', () => {
    expect(rangeOfAddress('2001:db8:0:12:a:b:c:d')).to.equal('2001:db8:0:12::/64');
    expect(rangeOfAddress('2001:db8::1')).to.equal('2001:db8:0:0::/64');
    expect(rangeOfAddress('fe80::1%eth0')).to.equal('fe80:0:0:0::/64');
    for (const ip of ['2001:db8:0:12:a:b:c:d', '2001:db8::1']) {
      const range = rangeOfAddress(ip)!;
      expect(isValidCidr(range)).to.equal(true);
      expect(ipInRanges(ip, [range])).to.equal(true);
    }
  });

  it('answers null for what is not an address', () => {
    expect(rangeOfAddress('unknown')).to.equal(null);
  });
});
