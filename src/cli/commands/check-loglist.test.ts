import { describe, expect, it } from 'vitest';
import type { LogListState } from '../../ct/index.js';
import { describeFallback } from './check-loglist.js';

const NOW = Date.parse('2026-12-07T12:00:00Z');
const state = (over: Partial<LogListState>): LogListState => ({
  logs: [],
  source: 'https://example.test/list.json',
  fetchedAt: null,
  origin: 'snapshot',
  stale: false,
  lastError: null,
  failingSince: null,
  cacheError: null,
  parts: [],
  warnings: [],
  ...over,
});

describe('describeFallback', () => {
  it.each([
    [
      'snapshot with its list timestamp',
      state({
        parts: [
          {
            source: 's',
            version: '1',
            listTimestamp: '2026-08-20T13:34:57Z',
            signatureVerified: true,
            logCount: 3,
          },
        ],
      }),
      'log list: the snapshot shipped with certvigil serves (list of 2026-08-20, 108 days old): offline',
    ],
    [
      'snapshot without a timestamp',
      state({}),
      'log list: the snapshot shipped with certvigil serves (list of ?, age unknown): offline',
    ],
    [
      'cached copy',
      state({ origin: 'cache', fetchedAt: '2026-12-06T11:00:00Z' }),
      'log list: a cached copy serves (fetched 2026-12-06, 1 day old): offline',
    ],
  ])('%s', (_, s, expected) => {
    expect(describeFallback(s, 'offline', NOW)).toBe(expected);
  });
});
