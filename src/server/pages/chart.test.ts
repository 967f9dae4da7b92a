import { describe, expect, it } from 'vitest';
import { monthChart, perMonth } from './chart.js';

describe('perMonth', () => {
  const now = new Date('2026-03-15T00:00:00Z');
  it('counts the last months up to now, oldest first, across a year boundary', () => {
    const r = perMonth(
      ['2026-03-01T00:00:00Z', '2026-01-31T23:59:59Z', '2025-12-01T00:00:00Z', 'garbage'],
      now,
      4,
    );
    expect(r).toEqual([
      { month: '2025-12', count: 1 },
      { month: '2026-01', count: 1 },
      { month: '2026-02', count: 0 },
      { month: '2026-03', count: 1 },
    ]);
  });
  it('leaves out dates outside the window', () => {
    expect(
      perMonth(['2020-01-01T00:00:00Z', '2027-01-01T00:00:00Z'], now, 2).every((m) => m.count === 0),
    ).toBe(true);
  });
});

describe('monthChart', () => {
  it('one bar per month with a title, no inline style, the label escaped', async () => {
    const svg = String(await monthChart(perMonth([], new Date('2026-03-15T00:00:00Z'), 3), '<b>x</b>'));
    expect(svg.match(/<rect/g)).toHaveLength(3);
    expect(svg).toContain('&lt;b&gt;x&lt;/b&gt;');
    expect(svg).not.toMatch(/style=/);
  });
});
