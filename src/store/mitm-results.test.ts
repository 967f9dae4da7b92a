/**
 * Migration 7 (issue 16): the last `check mitm --record` result per target, one suite for both
 * engines (PostgreSQL from test/harness/postgres.ts), like web.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { useEngineSuite } from './engine-suite.fixture.js';
import { LATEST_VERSION } from './migrations.js';
import { codeOf, ENGINES } from './store.fixture.js';
import type { MitmResultRecord, Store } from './types.js';
import { RESULT_JSON_MAX } from './web-codec.js';

const T0 = '2026-12-07T08:00:00.000Z';
const T1 = '2026-12-07T08:05:00.000Z';

const result = (over: Partial<MitmResultRecord> = {}): MitmResultRecord => ({
  target: 'mail.example.com',
  status: 'OK',
  resultJson: '{"status":"OK","findings":[]}',
  checkedAt: T0,
  ...over,
});

describe('migration 7', () => {
  it('is applied (later migrations follow it: issue 18)', () => {
    expect(LATEST_VERSION).toBeGreaterThanOrEqual(7);
  });
});

describe.each(ENGINES)('%s store: check mitm results (migration 7)', (kind) => {
  const suite = useEngineSuite(kind);
  let store: Store;
  async function fresh(): Promise<Store> {
    store = await suite.fresh();
    return store;
  }

  it('keep the last result per target (replaced), by target, its JSON text exactly as given', async () => {
    await fresh();
    expect(await store.listMitmResults()).toEqual([]);
    const text = '{"zeta": 1,  "findings": [{"message": "<script>\\u202e"}], "status": "CRITICAL"}';
    await store.putMitmResult(result());
    await store.putMitmResult(result({ target: '2001:db8::1', status: 'UNKNOWN', resultJson: '{}' }));
    await store.putMitmResult(result({ status: 'CRITICAL', resultJson: text, checkedAt: T1 }));
    expect(await store.listMitmResults()).toEqual([
      result({ target: '2001:db8::1', status: 'UNKNOWN', resultJson: '{}' }),
      result({ status: 'CRITICAL', resultJson: text, checkedAt: T1 }),
    ]);
  });

  it('keep a result of the largest size and a target of 253 characters', async () => {
    await fresh();
    const big = JSON.stringify({ s: 'x'.repeat(RESULT_JSON_MAX - 8) });
    expect(big).toHaveLength(RESULT_JSON_MAX);
    const target = `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}`;
    expect(target).toHaveLength(253);
    await store.putMitmResult(result({ target, resultJson: big }));
    expect(await store.listMitmResults()).toEqual([result({ target, resultJson: big })]);
  });

  it.each([
    ['not JSON', result({ resultJson: '{status: OK}' })],
    ['JSON over 1,000,000 characters', result({ resultJson: JSON.stringify('x'.repeat(RESULT_JSON_MAX)) })],
    ['U+0000 in the JSON text', result({ resultJson: '"a\u0000b"' })],
    ['unknown status', result({ status: 'FINE' as MitmResultRecord['status'] })],
    ['lower-case status', result({ status: 'ok' as MitmResultRecord['status'] })],
    ['empty target', result({ target: '' })],
    ['target with a space', result({ target: 'a b' })],
    ['target with a bidi override', result({ target: 'example.com\u202e' })],
    ['target with a control character', result({ target: 'example.com\u001b[2J' })],
    ['target over 253 characters', result({ target: 'a'.repeat(254) })],
    ['time without milliseconds', result({ checkedAt: '2026-12-07T08:00:00Z' })],
    ['time not a time', result({ checkedAt: 'yesterday' })],
  ])('refuse a bad result (%s), writing nothing', async (_, record) => {
    await fresh();
    expect(await codeOf(store.putMitmResult(record))).toBe('STORE_INVALID_ARGUMENT');
    expect(await store.listMitmResults()).toEqual([]);
  });
});
