import { expect } from 'chai';
import { rangeOfAddress } from '../../../src/domain/checks/network.js';
import { isDeviceOnlyRange } from '../../../src/shared/address-scope.js';

describe('isDeviceOnlyRange: the ranges "add my current network" must not offer for a class', () => {
  const rangeOf = (ip: string) => rangeOfAddress(ip)!;

  it('refuses the address of one device on a local network or mobile data', () => {
    for (const ip of [
      '127.0.0.1',
      '10.1.2.3',
      '172.16.0.9',
      '172.31.255.1',
      '192.168.1.20',
      '169.254.3.4',
      '100.64.0.1',
      '100.127.255.254',
      '::ffff:192.168.1.20',
      '::1',
      'fe80::1',
      '64:ff9b::a00:1', // NAT64: every IPv4 client behind the gateway
      '2001:0:4136:e378:8000:63bf:3fff:fdd2', // Teredo
    ]) {
      expect(isDeviceOnlyRange(rangeOf(ip)), ip).to.equal(true);
    }
  });

  it('offers a public IPv4 address (a school NAT egress) and an IPv6 /64, also just outside the private blocks', () => {
    for (const ip of [
      '203.0.113.7',
      '8.8.8.8',
      '172.15.255.255',
      '172.32.0.1',
      '100.63.255.255',
      '100.128.0.0',
      '192.169.0.1',
      '11.0.0.1',
      '2001:db8:1:2::5',
      'fd12:3456:789a:1::7',
      '2001:4860:4860::8888',
      '64:ff9a::1',
    ]) {
      expect(isDeviceOnlyRange(rangeOf(ip)), ip).to.equal(false);
    }
  });
});
