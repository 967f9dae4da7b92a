/**
 * Migration 6 (issue 16): what the web server reads and writes — issuance pages and name search,
 * tokens, users, sessions, host inventories, domain audits — one suite for both engines
 * (PostgreSQL from test/harness/postgres.ts), like store.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { useEngineSuite } from './engine-suite.fixture.js';
import {
  ENGINES,
  LOG_A,
  LOG_B,
  batch,
  ensureLogA,
  issuance,
  sha256Hex,
  treeOf,
  codeOf,
} from './store.fixture.js';
import type {
  HostInventoryItem,
  Issuance,
  IssuancePageQuery,
  SessionRecord,
  Store,
  TokenRecord,
  UserRecord,
} from './types.js';

const T0 = '2026-12-07T08:00:00.000Z';
const at = (seconds: number) => new Date(Date.parse(T0) + seconds * 1000).toISOString();

const token = (id: string, over: Partial<TokenRecord> = {}): TokenRecord => ({
  id,
  name: `token ${id}`,
  role: 'viewer',
  tokenSha256: sha256Hex(`secret ${id}`),
  createdAt: T0,
  expiresAt: null,
  revokedAt: null,
  lastUsedAt: null,
  ...over,
});

const user = (name: string, over: Partial<UserRecord> = {}): UserRecord => ({
  name,
  role: 'viewer',
  passwordHash: `scrypt$N=16384,r=8,p=1$c2FsdA$${name}`,
  createdAt: T0,
  ...over,
});

const session = (label: string, principal: string, over: Partial<SessionRecord> = {}): SessionRecord => ({
  idSha256: sha256Hex(`session ${label}`),
  principal,
  role: 'viewer',
  csrfToken: `csrf-${label}-0123456789abcdef`,
  createdAt: T0,
  expiresAt: at(3600),
  ...over,
});

const item = (label: string, over: Partial<HostInventoryItem> = {}): HostInventoryItem => ({
  certSha256: sha256Hex(`host cert ${label}`),
  tbsSha256: sha256Hex(`host tbs ${label}`),
  spkiSha256: sha256Hex(`host spki ${label}`),
  dnsNames: [`${label}.example.com`],
  notAfter: '2027-03-01T00:00:00.000Z',
  ...over,
});

/** The (firstSeen, tbsSha256) order of the pages, as the store promises it. */
function byPosition(a: Issuance, b: Issuance): number {
  return a.firstSeen < b.firstSeen ? -1 : a.firstSeen > b.firstSeen ? 1 : a.tbsSha256 < b.tbsSha256 ? -1 : 1;
}

describe.each(ENGINES)('%s store: web server tables (migration 6)', (kind) => {
  const suite = useEngineSuite(kind);
  let store: Store;
  async function fresh(): Promise<Store> {
    store = await suite.fresh();
    return store;
  }

  /**
   * Three commits of 5, 3 and 4 issuances: each commit's issuances share one firstSeen (ties,
   * ordered by TBS hash). Names cover exact, subdomain, wildcard, upper case, a non-label suffix
   * and LIKE metacharacters.
   */
  const NAMES: string[][] = [
    ['example.com'],
    ['www.example.com', 'example.com'],
    ['*.example.com'],
    ['badexample.com'],
    ['a.b.example.com'],
    ['x_y.example.com'],
    ['xay.example.com'],
    ['WWW.EXAMPLE.ORG'],
    ['%.example.net'],
    ['other.test'],
    ['deep.www.example.com'],
    ['example.com.evil.test'],
  ];
  async function seed(): Promise<Issuance[]> {
    await fresh();
    await ensureLogA(store);
    const all = NAMES.map((dnsNames, index) =>
      issuance({ index, tbsSha256: sha256Hex(`page ${index}`), dnsNames }),
    );
    for (const [from, to] of [
      [0, 5],
      [5, 8],
      [8, 12],
    ] as const) {
      await store.commitBatch(batch(LOG_A, from, to, { issuances: all.slice(from, to) }));
      await new Promise((r) => setTimeout(r, 5));
    }
    const stored = await store.listIssuances();
    expect(stored).toHaveLength(NAMES.length);
    return stored;
  }

  /** Every page of `query`, following the keyset position of the last issuance of each. */
  async function walk(query: Omit<IssuancePageQuery, 'after'>): Promise<{ pages: number; all: Issuance[] }> {
    const all: Issuance[] = [];
    let pages = 0;
    let page = await store.pageIssuances(query);
    while (page.length > 0) {
      pages++;
      expect(page.length).toBeLessThanOrEqual(query.limit);
      all.push(...page);
      const last = page[page.length - 1] as Issuance;
      page = await store.pageIssuances({
        ...query,
        after: { firstSeen: last.firstSeen, tbsSha256: last.tbsSha256 },
      });
    }
    return { pages, all };
  }

  const namesOf = (list: Issuance[]) => list.map((i) => i.dnsNames[0]).sort();

  describe('issuance pages', () => {
    it('walk every issuance once in (firstSeen, tbsSha256) order, ascending and descending, across ties', async () => {
      const stored = await seed();
      const asc = [...stored].sort(byPosition);
      expect(new Set(stored.map((i) => i.firstSeen)).size).toBe(3);
      for (const limit of [1, 2, 3, 5, 1000]) {
        const up = await walk({ limit });
        expect(up.all).toEqual(asc); // whole issuances: certificates and log entries too
        expect(up.pages).toBe(Math.ceil(asc.length / limit));
        const down = await walk({ limit, order: 'desc' });
        expect(down.all).toEqual([...asc].reverse());
      }
      expect(await store.countIssuances()).toBe(NAMES.length);
    });

    it('filter by name: the name, its subdomains and wildcards, at a label boundary only', async () => {
      await seed();
      const find = async (name: string) => namesOf((await walk({ name, limit: 2 })).all);
      expect(await find('example.com')).toEqual([
        '*.example.com',
        'a.b.example.com',
        'deep.www.example.com',
        'example.com',
        'www.example.com',
        'x_y.example.com',
        'xay.example.com',
      ]);
      expect(await find('www.example.com')).toEqual(['deep.www.example.com', 'www.example.com']);
      expect(await find('b.example.com')).toEqual(['a.b.example.com']);
      expect(await find('badexample.com')).toEqual(['badexample.com']);
      expect(await find('ample.com')).toEqual([]); // not at a label boundary
      // `_` is a character, not a LIKE wildcard; `%` is no name to search for.
      expect(await find('x_y.example.com')).toEqual(['x_y.example.com']);
      expect(await find('x_y.example.com'.replace('_', 'a'))).toEqual(['xay.example.com']);
      expect(await find('example.net')).toEqual(['%.example.net']);
      // DNS names compare case-insensitively (RFC 4343): a certificate in upper case is found.
      expect(await find('example.org')).toEqual(['WWW.EXAMPLE.ORG']);
      expect(await find('com')).toHaveLength(8);
      expect(await find('example.com.evil.test')).toEqual(['example.com.evil.test']);
      expect(await find('nothing.test')).toEqual([]);
      expect(await store.countIssuances('example.com')).toBe(7);
      expect(await store.countIssuances('www.example.com')).toBe(2);
      expect(await store.countIssuances('ample.com')).toBe(0);
    });

    it('page a name in both orders across ties, each issuance once', async () => {
      const stored = await seed();
      const mine = stored
        .filter((i) => i.dnsNames.some((n) => n === 'example.com' || n.endsWith('.example.com')))
        .sort(byPosition);
      for (const limit of [1, 2, 4]) {
        expect((await walk({ name: 'example.com', limit })).all).toEqual(mine);
        expect((await walk({ name: 'example.com', limit, order: 'desc' })).all).toEqual([...mine].reverse());
      }
      // An issuance with two names under the query is one result.
      expect((await walk({ name: 'example.com', limit: 1000 })).all).toHaveLength(7);
    });

    it('find hostile names under the query, and an issuance seen again in another log once, at its first sighting', async () => {
      await fresh();
      for (const logId of [LOG_A, LOG_B])
        await store.ensureCursor({
          logId,
          url: `https://ct.example/${logId}/`,
          kind: 'rfc6962',
          description: logId,
          position: 0,
          tree: treeOf(0),
        });
      const hostile = issuance({
        index: 0,
        tbsSha256: sha256Hex('hostile'),
        dnsNames: ['<script>alert(1)</script>.example.com', 'a.b\u202e.example.com', 'nul\0.example.com'],
      });
      await store.commitBatch(batch(LOG_A, 0, 1, { issuances: [hostile] }));
      await new Promise((r) => setTimeout(r, 5));
      await store.commitBatch(
        batch(LOG_B, 0, 1, { issuances: [{ ...hostile, logId: LOG_B, type: 'precert' }] }),
      );
      const [first] = await store.listIssuances();
      const page = await store.pageIssuances({ name: 'example.com', limit: 10 });
      expect(page).toEqual([first]);
      expect(page[0]?.entries.map((e) => e.logId)).toEqual([LOG_A, LOG_B].sort());
      expect(page[0]?.dnsNames[0]).toBe('<script>alert(1)</script>.example.com');
      expect(await store.countIssuances('example.com')).toBe(1);
    });

    it.each([
      ['limit 0', { limit: 0 }],
      ['limit 1001', { limit: 1001 }],
      ['limit 1.5', { limit: 1.5 }],
      ['order', { limit: 5, order: 'sideways' }],
      ['upper case name', { limit: 5, name: 'Example.com' }],
      ['wildcard name', { limit: 5, name: '*.example.com' }],
      ['LIKE pattern', { limit: 5, name: '%.example.com' }],
      ['empty name', { limit: 5, name: '' }],
      ['empty label', { limit: 5, name: 'a..example.com' }],
      ['trailing dot', { limit: 5, name: 'example.com.' }],
      ['too long', { limit: 5, name: `${'a'.repeat(60)}.`.repeat(5) + 'com' }],
      ['after time', { limit: 5, after: { firstSeen: '2026-12-07 08:00', tbsSha256: sha256Hex('x') } }],
      ['after hash', { limit: 5, after: { firstSeen: T0, tbsSha256: 'ABC' } }],
    ])('refuse a bad query (%s)', async (_, query) => {
      await fresh();
      expect(await codeOf(store.pageIssuances(query as IssuancePageQuery))).toBe('STORE_INVALID_ARGUMENT');
    });

    it('refuse a bad name to count', async () => {
      await fresh();
      expect(await codeOf(store.countIssuances('%'))).toBe('STORE_INVALID_ARGUMENT');
    });

    it('find the issuances of a version-5 database after the upgrade (suffixes derived in SQL)', async () => {
      const stored = await seed();
      await suite.state().query('DROP TABLE issuance_suffixes');
      for (const table of [
        'api_tokens',
        'users',
        'sessions',
        'host_inventory',
        'domain_audits',
        'mitm_results',
        'issuance_sources',
      ])
        await suite.state().query(`DROP TABLE ${table}`);
      await suite.state().query('DELETE FROM schema_migrations WHERE version > 5');
      const reopened = await suite.state().open();
      try {
        await reopened.migrate();
        for (const name of ['example.com', 'www.example.com', 'example.org', 'com', 'x_y.example.com']) {
          const page = await reopened.pageIssuances({ name, limit: 1000 });
          const want = stored
            .filter((i) =>
              i.dnsNames.some((n) => {
                const low = n.toLowerCase();
                return low === name || low.endsWith(`.${name}`);
              }),
            )
            .sort(byPosition);
          expect(page).toEqual(want);
          expect(await reopened.countIssuances(name)).toBe(want.length);
        }
      } finally {
        await reopened.close();
      }
    });
  });

  describe('tokens', () => {
    it('are stored by secret hash, found revoked or expired, listed, and clash on ID or secret', async () => {
      await fresh();
      const expiring = token('t-2', { role: 'admin', expiresAt: at(60), name: '<script>x</script> ops' });
      await store.createToken(token('t-1'));
      await store.createToken(expiring);
      expect(await store.findToken(expiring.tokenSha256)).toEqual(expiring);
      expect(await store.findToken(sha256Hex('unknown'))).toBeNull();
      expect((await store.listTokens()).map((t) => t.id)).toEqual(['t-1', 't-2']);
      expect(await codeOf(store.createToken(token('t-1', { tokenSha256: sha256Hex('other') })))).toBe(
        'STORE_INVALID_ARGUMENT',
      );
      expect(await codeOf(store.createToken(token('t-3', { tokenSha256: expiring.tokenSha256 })))).toBe(
        'STORE_INVALID_ARGUMENT',
      );
      expect(await store.listTokens()).toHaveLength(2);
    });

    it('revoke idempotently (the first time stays) and end the token sessions', async () => {
      await fresh();
      await store.createToken(token('t-1'));
      await store.createSession(session('a', 'token:t-1'));
      await store.createSession(session('b', 'token:t-10'));
      expect(await store.revokeToken('t-1', at(10))).toBe(true);
      expect(await store.revokeToken('t-1', at(20))).toBe(true);
      expect(await store.revokeToken('nope', at(20))).toBe(false);
      expect((await store.findToken(token('t-1').tokenSha256))?.revokedAt).toBe(at(10));
      expect(await store.getSession(session('a', '').idSha256)).toBeNull();
      expect(await store.getSession(session('b', '').idSha256)).not.toBeNull();
    });

    it('record the last use at most once a minute', async () => {
      await fresh();
      await store.createToken(token('t-1'));
      const lastUsed = async () => (await store.findToken(token('t-1').tokenSha256))?.lastUsedAt;
      await store.touchToken('t-1', at(0));
      expect(await lastUsed()).toBe(at(0));
      await store.touchToken('t-1', at(30));
      expect(await lastUsed()).toBe(at(0));
      await store.touchToken('t-1', at(61));
      expect(await lastUsed()).toBe(at(61));
      await store.touchToken('nope', at(100)); // no such token: nothing to record
    });

    it.each([
      ['role', { role: 'root' }],
      ['ID', { id: 'a b' }],
      ['long name', { name: 'n'.repeat(101) }],
      ['bidi name', { name: 'ops\u202Etxt' }],
      ['NUL name', { name: 'ops\0' }],
      ['hash', { tokenSha256: 'A'.repeat(64) }],
      ['time', { createdAt: '2026-12-07T08:00:00Z' }],
      ['expiry', { expiresAt: 'tomorrow' }],
    ])('refuse a bad token (%s)', async (_, over) => {
      await fresh();
      expect(await codeOf(store.createToken(token('t-1', over as Partial<TokenRecord>)))).toBe(
        'STORE_INVALID_ARGUMENT',
      );
      expect(await store.listTokens()).toEqual([]);
    });

    it('keep a name of 100 characters as given', async () => {
      await fresh();
      const t = token('t-1', { name: `<b>"&'${'é'.repeat(94)}` });
      await store.createToken(t);
      expect((await store.listTokens())[0]?.name).toBe(t.name);
    });
  });

  describe('users and sessions', () => {
    it('put, replace, get and list users', async () => {
      await fresh();
      await store.putUser(user('bob'));
      await store.putUser(user('alice'));
      await store.putUser(user('bob', { role: 'admin', passwordHash: 'scrypt$new' }));
      expect(await store.getUser('bob')).toEqual(user('bob', { role: 'admin', passwordHash: 'scrypt$new' }));
      expect(await store.getUser('carol')).toBeNull();
      expect((await store.listUsers()).map((u) => u.name)).toEqual(['alice', 'bob']);
    });

    it("delete a user with that user's sessions only", async () => {
      await fresh();
      await store.putUser(user('bob'));
      await store.putUser(user('bobby'));
      await store.createSession(session('1', 'user:bob'));
      await store.createSession(session('2', 'user:bob'));
      await store.createSession(session('3', 'user:bobby'));
      expect(await store.deleteUser('bob')).toBe(true);
      expect(await store.deleteUser('bob')).toBe(false);
      expect(await store.getUser('bob')).toBeNull();
      expect(await store.getSession(sha256Hex('session 1'))).toBeNull();
      expect(await store.getSession(sha256Hex('session 2'))).toBeNull();
      expect(await store.getSession(sha256Hex('session 3'))).toEqual(session('3', 'user:bobby'));
    });

    it('create, read (expired included), delete and expire sessions', async () => {
      await fresh();
      const old = session('old', 'user:bob', { role: 'admin', expiresAt: at(10) });
      await store.createSession(old);
      await store.createSession(session('edge', 'token:t-1', { expiresAt: at(20) }));
      await store.createSession(session('new', 'user:bob', { expiresAt: at(3600) }));
      expect(await codeOf(store.createSession(old))).toBe('STORE_INVALID_ARGUMENT');
      expect(await store.getSession(old.idSha256)).toEqual(old);
      // Before `now` only: a session expiring exactly now stays for the caller to judge.
      expect(await store.deleteExpiredSessions(at(20))).toBe(1);
      expect(await store.getSession(old.idSha256)).toBeNull();
      expect(await store.getSession(sha256Hex('session edge'))).not.toBeNull();
      await store.deleteSession(sha256Hex('session new'));
      await store.deleteSession(sha256Hex('session new')); // idempotent
      expect(await store.getSession(sha256Hex('session new'))).toBeNull();
      expect(await store.deleteExpiredSessions(at(100_000))).toBe(1);
    });

    it.each([
      ['user name', () => user('a b')],
      ['user role', () => user('bob', { role: 'root' as 'admin' })],
      ['plain password', () => user('bob', { passwordHash: 'hunter2' })],
      ['user time', () => user('bob', { createdAt: 'now' })],
    ])('refuse a bad user (%s)', async (_, make) => {
      await fresh();
      expect(await codeOf(store.putUser(make()))).toBe('STORE_INVALID_ARGUMENT');
      expect(await store.listUsers()).toEqual([]);
    });

    it.each([
      ['principal', { principal: 'bob' }],
      ['principal name', { principal: 'user:a b' }],
      ['csrf', { csrfToken: 'short' }],
      ['id hash', { idSha256: 'x' }],
      ['expiry', { expiresAt: '2026-12-07' }],
      ['role', { role: 'root' }],
    ])('refuse a bad session (%s)', async (_, over) => {
      await fresh();
      expect(
        await codeOf(store.createSession(session('s', 'user:bob', over as Partial<SessionRecord>))),
      ).toBe('STORE_INVALID_ARGUMENT');
      expect(await store.getSession(sha256Hex('session s'))).toBeNull();
    });
  });

  describe('host inventories', () => {
    it('replace a host push whole (not merged), list per host and in all, clear with an empty push', async () => {
      await fresh();
      await store.replaceHostInventory('web-1.example.com', [item('a'), item('b')], T0);
      await store.replaceHostInventory('mail_2', [item('c')], T0);
      await store.replaceHostInventory('web-1.example.com', [item('b'), item('d'), item('d')], at(60));
      const web = await store.listHostInventory('web-1.example.com');
      expect(web.map((r) => r.dnsNames[0]).sort()).toEqual(['b.example.com', 'd.example.com']);
      expect(web.every((r) => r.pushedAt === at(60))).toBe(true);
      expect(web.find((r) => r.certSha256 === item('b').certSha256)).toEqual({
        ...item('b'),
        host: 'web-1.example.com',
        pushedAt: at(60),
      });
      const all = await store.listHostInventory();
      expect(all.map((r) => r.host)).toEqual(['mail_2', 'web-1.example.com', 'web-1.example.com']);
      expect(all.slice(1).map((r) => r.certSha256)).toEqual([...web.map((r) => r.certSha256)].sort());
      await store.replaceHostInventory('web-1.example.com', [], at(120));
      expect(await store.listHostInventory('web-1.example.com')).toEqual([]);
      expect(await store.listHostInventory('mail_2')).toHaveLength(1);
    });

    it('keep DNS names as given (1,000 names of 253 characters)', async () => {
      await fresh();
      const long = `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}`;
      const names = Array.from({ length: 1000 }, (_, i) => `${i}${long}`.slice(0, 253));
      const odd = item('odd', { dnsNames: ['<script>alert(1)</script>.example.com', ...names.slice(1)] });
      await store.replaceHostInventory('h', [odd], T0);
      expect((await store.listHostInventory('h'))[0]?.dnsNames).toEqual(odd.dnsNames);
    });

    it.each([
      ['host with a space', 'a b', [item('a')]],
      ['empty host', '', [item('a')]],
      ['host too long', 'h'.repeat(254), [item('a')]],
      ['host with a slash', '../etc', [item('a')]],
      ['uppercase hash', 'h', [item('a', { certSha256: sha256Hex('x').toUpperCase() })]],
      ['short hash', 'h', [item('a', { tbsSha256: 'abcd' })]],
      [
        'too many names',
        'h',
        [item('a', { dnsNames: Array.from({ length: 1001 }, (_, i) => `n${i}.test`) })],
      ],
      ['name too long', 'h', [item('a', { dnsNames: ['a'.repeat(254)] })]],
      ['empty name', 'h', [item('a', { dnsNames: [''] })]],
      ['control character', 'h', [item('a', { dnsNames: ['a\u001b[2J.test'] })]],
      ['bad notAfter', 'h', [item('a', { notAfter: 'never' })]],
      ['conflicting duplicate', 'h', [item('a'), item('a', { dnsNames: ['other.test'] })]],
      ['too many items', 'h', Array.from({ length: 100_001 }, () => item('a'))],
    ])('refuse a bad push (%s) and keep the previous one', async (_, host, items) => {
      await fresh();
      await store.replaceHostInventory('h', [item('kept')], T0);
      expect(await codeOf(store.replaceHostInventory(host, items, at(60)))).toBe('STORE_INVALID_ARGUMENT');
      expect((await store.listHostInventory()).map((r) => r.dnsNames[0])).toEqual(['kept.example.com']);
    });

    it('refuse a bad push time and a bad host to list', async () => {
      await fresh();
      expect(await codeOf(store.replaceHostInventory('h', [item('a')], 'now'))).toBe(
        'STORE_INVALID_ARGUMENT',
      );
      expect(await codeOf(store.listHostInventory('a b'))).toBe('STORE_INVALID_ARGUMENT');
      expect(await store.listHostInventory()).toEqual([]);
    });
  });

  describe('domain audits', () => {
    it('keep the last audit per domain, its JSON text exactly as given', async () => {
      await fresh();
      const text = '{"zeta": 1,  "alpha": ["<script>", "\\u202e"], "grade": "B"}';
      await store.putDomainAudit({ domain: 'example.com', resultJson: '{"grade":"A"}', checkedAt: T0 });
      await store.putDomainAudit({ domain: 'b.example.com', resultJson: '[]', checkedAt: T0 });
      await store.putDomainAudit({ domain: 'example.com', resultJson: text, checkedAt: at(60) });
      expect(await store.listDomainAudits()).toEqual([
        { domain: 'b.example.com', resultJson: '[]', checkedAt: T0 },
        { domain: 'example.com', resultJson: text, checkedAt: at(60) },
      ]);
    });

    it.each([
      ['not JSON', { domain: 'example.com', resultJson: '{grade: A}', checkedAt: T0 }],
      ['upper-case domain', { domain: 'Example.com', resultJson: '{}', checkedAt: T0 }],
      ['bad domain', { domain: 'example.com/x', resultJson: '{}', checkedAt: T0 }],
      ['bad time', { domain: 'example.com', resultJson: '{}', checkedAt: 'yesterday' }],
    ])('refuse a bad audit (%s)', async (_, record) => {
      await fresh();
      expect(await codeOf(store.putDomainAudit(record))).toBe('STORE_INVALID_ARGUMENT');
      expect(await store.listDomainAudits()).toEqual([]);
    });
  });
});
