/**
 * The outbox retry policy: the daemon drains every few seconds, so a sink that is down is retried
 * with backoff per alert, not on every drain.
 */
import { describe, expect, it } from 'vitest';
import { alertBackoff } from './alerts.js';

describe('alertBackoff', () => {
  it.each([
    [1, 10_000],
    [2, 20_000],
    [3, 40_000],
    [20, 900_000],
  ])('after %i failure(s) the alert waits %i ms', (failures, waitMs) => {
    let now = 1_000_000;
    const policy = alertBackoff(() => now);
    expect(policy.due(1)).toBe(true);
    for (let i = 0; i < failures; i++) policy.failed(1);
    now += waitMs - 1;
    expect(policy.due(1)).toBe(false);
    expect(policy.due(2)).toBe(true); // other alerts are not held back
    now += 1;
    expect(policy.due(1)).toBe(true);
  });

  it('forgets an alert once delivered', () => {
    const now = 5;
    const policy = alertBackoff(() => now);
    policy.failed(1);
    policy.succeeded(1);
    expect(policy.due(1)).toBe(true);
  });
});
