import { describe, expect, it } from 'vitest';
import { clientAddressKey, LoginRateLimiter, userNameKey } from './rate-limit.js';

function clock(start = 0): { now: () => number; advance(ms: number): void } {
  let t = start;
  return { now: () => t, advance: (ms) => void (t += ms) };
}

describe('LoginRateLimiter', () => {
  it('allows 5 failures per key, then refuses with the time left in the 15-minute window', () => {
    const c = clock();
    const l = new LoginRateLimiter({}, c.now);
    const keys = ['addr:192.0.2.1'];
    for (let i = 0; i < 5; i++) {
      expect(l.check(keys)).toEqual({ allowed: true });
      l.fail(keys);
      c.advance(1000);
    }
    expect(l.check(keys)).toEqual({ allowed: false, retryAfterSeconds: 15 * 60 - 5 });
    c.advance(15 * 60_000 - 5000 - 1);
    expect(l.check(keys).allowed).toBe(false);
    c.advance(1);
    expect(l.check(keys)).toEqual({ allowed: true });
  });

  it('refuses when any key is over: the address for a spray of names, the name for many addresses', () => {
    const l = new LoginRateLimiter({ maxFailures: 2 }, clock().now);
    l.fail(['addr:a', 'user:alice']);
    l.fail(['addr:b', 'user:alice']);
    // alice is locked, whatever the address; the addresses themselves are not
    expect(l.check(['addr:c', 'user:alice']).allowed).toBe(false);
    expect(l.check(['addr:a', 'user:bob']).allowed).toBe(true);
    l.fail(['addr:a', 'user:bob']);
    expect(l.check(['addr:a', 'user:carol']).allowed).toBe(false);
  });

  it('forget() clears one key only (a successful login forgets the name, not the address)', () => {
    const l = new LoginRateLimiter({ maxFailures: 1 }, clock().now);
    l.fail(['addr:a', 'user:alice']);
    l.forget('user:alice');
    expect(l.check(['user:alice']).allowed).toBe(true);
    expect(l.check(['addr:a']).allowed).toBe(false);
  });

  it('keeps memory bounded: expired windows first, then the oldest', () => {
    const c = clock();
    const l = new LoginRateLimiter({ maxKeys: 3, windowMs: 1000 }, c.now);
    l.fail(['k1']);
    l.fail(['k2']);
    c.advance(1000); // k1, k2 expired
    l.fail(['k3']);
    l.fail(['k4']);
    expect(l.size).toBe(2);
    l.fail(['k5']);
    l.fail(['k6']); // full: k3 (oldest) goes
    expect(l.size).toBe(3);
    for (let i = 0; i < 10_000; i++) l.fail([`spray${i}`]);
    expect(l.size).toBe(3);
  });
});

describe('clientAddressKey', () => {
  it.each([
    ['192.0.2.7', 'addr:192.0.2.7'],
    ['::ffff:192.0.2.7', 'addr:192.0.2.7'],
    ['2001:db8:1:2:3:4:5:6', 'addr:2001:db8:1:2::/64'],
    ['2001:db8:1:2::ffff', 'addr:2001:db8:1:2::/64'],
    ['2001:DB8:0001:0002:aaaa::1', 'addr:2001:db8:1:2::/64'],
    ['2001:db8::1', 'addr:2001:db8:0:0::/64'],
    ['fe80::1%eth0', 'addr:fe80:0:0:0::/64'],
    ['::1', 'addr:0:0:0:0::/64'],
    ['[2001:db8::1]', 'addr:2001:db8:0:0::/64'],
    [undefined, 'addr:unknown'],
    ['not an address', 'addr:unknown'],
  ])('%s → %s', (address, key) => {
    expect(clientAddressKey(address)).toBe(key);
  });

  it('names are their own keys, apart from addresses', () => {
    expect(userNameKey('addr:1.2.3.4')).toBe('user:addr:1.2.3.4');
  });
});
