import { describe, expect, it, vi } from 'vitest';
import type { SessionRecord, Store } from '../../store/index.js';
import { openSession, safeNextPath, SessionSweeper } from './sessions.js';
import { secretHash } from './secrets.js';

describe('safeNextPath', () => {
  it.each([
    ['/', '/'],
    ['/certificates?name=example.com', '/certificates?name=example.com'],
    ['/certificates/abc#frag', '/certificates/abc'],
    ['/a/../b', '/b'],
    [undefined, '/'],
    ['', '/'],
    // another host
    ['//evil.example', '/'],
    ['//evil.example/x', '/'],
    ['/\\evil.example', '/'],
    ['\\\\evil.example', '/'],
    ['/\\/evil.example', '/'],
    ['https://evil.example/', '/'],
    ['http:evil.example', '/'],
    ['javascript:alert(1)', '/'],
    ['evil.example', '/'],
    // browsers drop TAB/CR/LF: "/\t/evil" would become "//evil"
    ['/\t/evil.example', '/'],
    ['/\n/evil.example', '/'],
    ['/\r/evil.example', '/'],
    ['/ /evil.example', '/'],
    ['/\u00a0x', '/'],
    ['/\u202ex', '/'],
    ['/\u0000x', '/'],
    // back to the form, or to a POST-only endpoint: home instead
    ['/login', '/'],
    ['/login?next=//evil', '/'],
    ['/logout', '/'],
    ['/' + 'a'.repeat(2001), '/'],
  ])('%j → %j', (next, expected) => {
    expect(safeNextPath(next)).toBe(expected);
  });
});

function memoryStore(): Store & { sessions: Map<string, SessionRecord> } {
  const sessions = new Map<string, SessionRecord>();
  return {
    sessions,
    createSession: async (s: SessionRecord) => void sessions.set(s.idSha256, s),
    deleteExpiredSessions: vi.fn(async () => 0),
  } as unknown as Store & { sessions: Map<string, SessionRecord> };
}

describe('openSession', () => {
  it('stores only the SHA-256 of the ID, with a CSRF token and the expiry', async () => {
    const store = memoryStore();
    const at = new Date('2026-12-07T12:00:00.000Z');
    const s = await openSession(store, { principal: 'user:alice', role: 'admin' }, at, 8 * 3_600_000);
    expect(s.id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(s.record.idSha256).toBe(secretHash(s.id));
    expect(store.sessions.get(secretHash(s.id))).toEqual(s.record);
    expect(s.record.csrfToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(s.record.csrfToken).not.toBe(s.id);
    expect(s.record.expiresAt).toBe('2026-12-07T20:00:00.000Z');
  });

  it('never outlives the token it was opened with', async () => {
    const at = new Date('2026-12-07T12:00:00.000Z');
    const s = await openSession(
      memoryStore(),
      { principal: 'token:0123456789abcdef', role: 'viewer' },
      at,
      8 * 3_600_000,
      '2026-12-07T13:00:00.000Z',
    );
    expect(s.record.expiresAt).toBe('2026-12-07T13:00:00.000Z');
  });
});

describe('SessionSweeper', () => {
  it('sweeps at most once a minute', async () => {
    const store = memoryStore();
    const sweeper = new SessionSweeper(store, () => undefined);
    const t0 = Date.parse('2026-12-07T12:00:00.000Z');
    await sweeper.maybeSweep(new Date(t0));
    expect(sweeper.maybeSweep(new Date(t0 + 30_000))).toBeNull();
    expect(sweeper.maybeSweep(new Date(t0 + 59_999))).toBeNull();
    await sweeper.maybeSweep(new Date(t0 + 60_000));
    expect(store.deleteExpiredSessions).toHaveBeenCalledTimes(2);
    expect(store.deleteExpiredSessions).toHaveBeenLastCalledWith('2026-12-07T12:01:00.000Z');
  });

  it('reports a failed sweep and does not throw', async () => {
    const store = memoryStore();
    (store.deleteExpiredSessions as ReturnType<typeof vi.fn>).mockRejectedValueOnce(new Error('locked'));
    const errors: unknown[] = [];
    const sweeper = new SessionSweeper(store, (e) => errors.push(e));
    await expect(sweeper.maybeSweep(new Date())).resolves.toBe(0);
    expect(errors).toHaveLength(1);
  });
});
