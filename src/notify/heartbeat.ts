/**
 * @module notify/heartbeat
 * The opt-in "still alive" event (certspotter #85): with `alerts.heartbeat: 24h` the
 * daemon sends a `heartbeat` through every sink once per interval, so a monitor that died or lost
 * its alert path is noticed by the heartbeat's absence. Pure: when one is due, and what it says.
 * The time of the last one is kept in the store (`MonitorStatusRecord.lastHeartbeatAt`), so a
 * daemon restarted every night neither skips it nor sends one per restart.
 */
import type { MonitorEvent } from './types.js';

export type HeartbeatEvent = Extract<MonitorEvent, { type: 'heartbeat' }>;

/**
 * Whether a heartbeat is due at `now`: none sent yet (or the record is unreadable), at least
 * `intervalMs` since the last one, or the last one lies more than an interval in the future (the
 * clock was set back: waiting for it could mean weeks of silence).
 */
export function heartbeatDue(lastSentAt: string | null, now: Date, intervalMs: number): boolean {
  if (lastSentAt === null) return true;
  const last = Date.parse(lastSentAt);
  if (Number.isNaN(last)) return true;
  const elapsed = now.getTime() - last;
  return elapsed >= intervalMs || elapsed < -intervalMs;
}

export interface HeartbeatFacts {
  logs: number;
  /** Logs not verified within the `check monitor` limit (see health/verdict.ts). */
  staleLogs: number;
  pendingAlerts: number;
  lastCycleAt: string | null;
}

export function heartbeatEvent(now: Date, facts: HeartbeatFacts): HeartbeatEvent {
  const stale = facts.staleLogs === 0 ? 'all up to date' : `${facts.staleLogs} behind`;
  return {
    type: 'heartbeat',
    severity: 'info',
    at: now.toISOString(),
    message:
      `certvigil monitor alive: ${facts.logs} logs (${stale}), ${facts.pendingAlerts} alerts pending, ` +
      `last pass ${facts.lastCycleAt ?? 'not completed yet'}`,
  };
}
