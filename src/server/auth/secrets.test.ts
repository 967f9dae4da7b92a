import { describe, expect, it } from 'vitest';
import { hashPassword, newSecret, newToken, secretHash, TOKEN_PREFIX, verifyPassword } from './secrets.js';

describe('secrets', () => {
  it('makes 256-bit base64url secrets and prefixed tokens stored only as SHA-256', () => {
    const s = newSecret();
    expect(s).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(newSecret()).not.toBe(s);
    const t = newToken();
    expect(t.token.startsWith(TOKEN_PREFIX)).toBe(true);
    expect(t.id).toMatch(/^[0-9a-f]{16}$/);
    expect(t.tokenSha256).toBe(secretHash(t.token));
    expect(t.tokenSha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('hashes a password with scrypt and a salt, and verifies it', async () => {
    const h = await hashPassword('correct horse battery');
    expect(h).toMatch(/^scrypt\$32768\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(await hashPassword('correct horse battery')).not.toBe(h); // per-hash salt
    expect(await verifyPassword('correct horse battery', h)).toBe(true);
    expect(await verifyPassword('correct horse batterY', h)).toBe(false);
    expect(await verifyPassword('', h)).toBe(false);
    // NFC: the same text typed with a combining accent is the same password
    const nfc = await hashPassword('caf\u00e9 au lait 12');
    expect(await verifyPassword('cafe\u0301 au lait 12', nfc)).toBe(true);
  });

  it.each([
    ['empty', ''],
    ['plain text', 'hunter2hunter2'],
    ['wrong scheme', 'bcrypt$32768$8$1$c2FsdHNhbHRzYWx0$a2V5'],
    ['too few fields', 'scrypt$32768$8$1$c2FsdHNhbHRzYWx0'],
    ['too many fields', 'scrypt$32768$8$1$a$b$c'],
    ['N not a number', 'scrypt$x$8$1$c2FsdHNhbHRzYWx0$' + 'A'.repeat(43)],
    ['N zero', 'scrypt$0$8$1$c2FsdHNhbHRzYWx0$' + 'A'.repeat(43)],
    ['N not a power of two', 'scrypt$1000$8$1$c2FsdHNhbHRzYWx0$' + 'A'.repeat(43)],
    ['N huge (a memory bomb)', 'scrypt$1073741824$8$1$c2FsdHNhbHRzYWx0$' + 'A'.repeat(43)],
    ['r huge', 'scrypt$16384$100000$1$c2FsdHNhbHRzYWx0$' + 'A'.repeat(43)],
    ['salt too short', 'scrypt$16384$8$1$YQ$' + 'A'.repeat(43)],
    ['key of the wrong length', 'scrypt$16384$8$1$c2FsdHNhbHRzYWx0$AAAA'],
  ])('a malformed stored hash (%s) verifies nothing and never throws', async (_why, stored) => {
    await expect(verifyPassword('anything at all', stored)).resolves.toBe(false);
  });
});
