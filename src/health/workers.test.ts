import { describe, expect, it } from 'vitest';
import type { WorkUnit } from '../store/index.js';
import { unitsView } from './workers.js';

const NOW = new Date('2026-12-07T12:00:00Z');
const unit = (
  first: number,
  state: WorkUnit['state'],
  workerId: string | null,
  leaseUntil: string | null,
): WorkUnit => ({
  logId: 'log',
  first,
  last: first + 10,
  treeSize: 100,
  state,
  workerId,
  leaseUntil,
  entriesRead: state === 'done' ? 10 : 0,
  updatedAt: NOW.toISOString(),
});

describe('unitsView', () => {
  it('counts units by state, tells live leases from run-out ones, and lists the live workers', () => {
    const v = unitsView(
      [
        unit(0, 'done', 'a', null),
        unit(10, 'claimed', 'a', '2026-12-07T12:00:10Z'),
        unit(20, 'claimed', 'b', '2026-12-07T12:00:05Z'),
        unit(30, 'claimed', 'b', '2026-12-07T12:00:20Z'),
        unit(40, 'claimed', 'dead', '2026-12-07T11:59:00Z'),
        unit(50, 'open', null, null),
      ],
      NOW,
    );
    expect(v).toMatchObject({ open: 1, claimed: 3, expired: 1, done: 1, entries: 60 });
    expect(v.workers).toEqual([
      { workerId: 'a', holding: 1, leaseUntil: '2026-12-07T12:00:10Z' },
      { workerId: 'b', holding: 2, leaseUntil: '2026-12-07T12:00:20Z' },
    ]);
  });

  it('is empty without units', () => {
    expect(unitsView([], NOW)).toEqual({ open: 0, claimed: 0, expired: 0, done: 0, entries: 0, workers: [] });
  });
});
