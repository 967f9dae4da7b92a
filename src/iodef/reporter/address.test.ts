import { describe, expect, it } from 'vitest';
import { embeddedIpv4, isLoopbackAddress, nonPublicAddressKind } from './address.js';

describe('nonPublicAddressKind: only global unicast is allowed', () => {
  // Every row: an address an iodef https: URL may resolve to, and why a report must not go there.
  it.each([
    // IPv4, IANA IPv4 Special-Purpose Address Registry (RFC 6890) and RFC 1918/6598.
    ['0.0.0.0', 'this-network'],
    ['0.1.2.3', 'this-network'],
    ['10.1.2.3', 'private'],
    ['100.64.0.1', 'cgnat'],
    ['100.127.255.255', 'cgnat'],
    ['127.0.0.1', 'loopback'],
    ['169.254.169.254', 'link-local'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.0.0.8', 'ietf-protocol'],
    ['192.0.2.1', 'documentation'],
    ['192.88.99.1', '6to4-relay'],
    ['192.168.1.1', 'private'],
    ['198.18.0.1', 'benchmarking'],
    ['198.19.255.255', 'benchmarking'],
    ['198.51.100.7', 'documentation'],
    ['203.0.113.9', 'documentation'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['240.0.0.1', 'reserved'],
    ['255.255.255.255', 'broadcast'],
    // IPv6 outside 2000::/3.
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['[::1]', 'loopback'],
    ['::ffff:127.0.0.1', 'ipv4-mapped-loopback'],
    ['::ffff:7f00:1', 'ipv4-mapped-loopback'],
    ['::ffff:10.0.0.1', 'ipv4-mapped-private'],
    ['::ffff:8.8.8.8', 'ipv4-mapped'],
    ['::ffff:0:a00:1', 'ipv4-translated-private'],
    ['::ffff:0:808:808', 'ipv4-translated'],
    ['::10.0.0.1', 'ipv4-compatible-private'],
    ['64:ff9b::a9fe:a9fe', 'nat64-link-local'],
    ['64:ff9b::10.0.0.1', 'nat64-private'],
    ['64:ff9b::7f00:1', 'nat64-loopback'],
    ['64:ff9b:1::808:808', 'nat64-local'],
    ['64:ff9b:1:ffff::1', 'nat64-local'],
    ['100::1', 'discard'],
    ['fc00::1', 'unique-local'],
    ['fd00::1', 'unique-local'],
    ['fe80::1%eth0', 'link-local'],
    ['fec0::1', 'site-local'],
    ['ff02::1', 'multicast'],
    ['4000::1', 'not-global-unicast'],
    ['1::1', 'not-global-unicast'],
    // IPv6 inside 2000::/3 but special-purpose.
    ['2001::1', 'teredo'],
    ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'teredo'],
    ['2001:2::1', 'ietf-protocol'],
    ['2001:1ff:ffff::1', 'ietf-protocol'],
    ['2001:db8::1', 'documentation'],
    ['3fff::1', 'documentation'],
    ['3fff:fff:ffff::1', 'documentation'],
    ['2002:c0a8:0101::1', '6to4-private'],
    ['2002:7f00:1::1', '6to4-loopback'],
    ['2002:808:808::1', '6to4'],
    ['5f00::1', 'srv6-sid'],
    ['not-an-ip', 'invalid'],
    ['example.com', 'invalid'],
  ])('%s is %s', (address, kind) => expect(nonPublicAddressKind(address)).toBe(kind));

  it.each([
    '93.184.216.34',
    '8.8.8.8',
    '1.1.1.1',
    '172.32.0.1',
    '100.128.0.1',
    '198.20.0.1',
    '192.0.3.1',
    '2606:2800:220:1:248:1893:25c8:1946',
    '2a00:1450:4001:80b::200e',
    '2001:200::1',
    '3ffe::1',
    '3fff:1000::1',
    '64:ff9b::808:808',
    '64:ff9b::8.8.8.8',
  ])('%s is global and allowed', (address) => expect(nonPublicAddressKind(address)).toBeNull());

  it('finds embedded IPv4 addresses', () => {
    expect(embeddedIpv4('::ffff:1.2.3.4')).toBe('1.2.3.4');
    expect(embeddedIpv4('::ffff:0:102:304')).toBe('1.2.3.4');
    expect(embeddedIpv4('2002:102:304::1')).toBe('1.2.3.4');
    expect(embeddedIpv4('2001:db8::1')).toBeNull();
    expect(embeddedIpv4('1.2.3.4')).toBeNull();
  });

  it('knows loopback in both families', () => {
    expect(isLoopbackAddress('127.0.0.2')).toBe(true);
    expect(isLoopbackAddress('::1')).toBe(true);
    expect(isLoopbackAddress('::ffff:127.0.0.1')).toBe(true);
    expect(isLoopbackAddress('8.8.8.8')).toBe(false);
  });
});
