/**
 * Builders shared by the work-unit suites (work-units.test.ts, work-units-complete.test.ts).
 */
import { LOG_A, sha256Hex } from './store.fixture.js';
import type { AlertInput, UnitCompletion, WorkUnit } from './types.js';
import { LEAF_HASH_BYTES } from './work-units-codec.js';

/** Distinct, recognisable leaf hashes for entries [first, last). */
export function leaves(first: number, last: number): Uint8Array {
  const out = new Uint8Array((last - first) * LEAF_HASH_BYTES);
  for (let i = first; i < last; i++) out.set(Buffer.from(sha256Hex(`leaf ${i}`), 'hex'), (i - first) * 32);
  return out;
}

export const alert = (key: string): AlertInput => ({ key, kind: 'issuance', payload: { key } });

export function completion(
  unit: Pick<WorkUnit, 'first' | 'last'>,
  workerId: string,
  over: Partial<UnitCompletion> = {},
): UnitCompletion {
  return {
    logId: LOG_A,
    first: unit.first,
    workerId,
    leafHashes: leaves(unit.first, unit.last),
    issuances: [],
    malformed: [],
    alerts: [],
    ...over,
  };
}

/** The value, or a test failure naming what was missing. */
export function must<T>(value: T | null | undefined, what = 'a value'): T {
  if (value === null || value === undefined) throw new Error(`expected ${what}`);
  return value;
}

export const span = (u: WorkUnit): [number, number] => [u.first, u.last];
