/**
 * @module duration
 * One syntax for every duration a user writes, on the command line or in the config file:
 * `500ms`, `15s`, `5m`, `2h`, `1d`, or a bare number in the documented unit of that flag or key.
 * A shared leaf (it imports only `errors.ts`), so the CLI and the monitor's config parse alike.
 */
import { CertvigilError } from './errors.js';

/** The longest duration any flag accepts: Node's timers overflow past 2^31 − 1 ms (≈ 24.8 days). */
export const MAX_DURATION_MS = 2 ** 31 - 1;

const DURATION_UNITS_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
export type DurationUnit = keyof typeof DURATION_UNITS_MS;

export interface DurationBounds {
  /** Unit of a bare number, each flag's documented unit (`--timeout 3000` is ms, `--interval 300` s). */
  unit: DurationUnit;
  /** Smallest accepted value in milliseconds (default 1). */
  minMs?: number;
  /** Largest accepted value in milliseconds (default and ceiling MAX_DURATION_MS). */
  maxMs?: number;
  /**
   * The value never reaches a timer (e.g. how long until a token expires, stored as a date): the
   * MAX_DURATION_MS ceiling does not apply, `maxMs` alone bounds it.
   */
  notATimer?: boolean;
}

/**
 * One syntax for every duration flag: a number with a unit (`500ms`, `15s`, `5m`, `2h`, `1d`), or a
 * bare number in the flag's documented unit. Bounded, so that no value can overflow a timer (a value
 * past 2^31 ms fires at once, and a daemon interval of that size spins).
 */
export function parseDuration(value: string, flag: string, bounds: DurationBounds): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/i.exec(value);
  if (!m) {
    throw new CertvigilError(
      'USAGE',
      `${flag} must be a duration such as 500ms, 15s, 5m or a number of ${unitName(bounds.unit)} (got ${JSON.stringify(value.slice(0, 40))})`,
    );
  }
  const unit = (m[2]?.toLowerCase() ?? bounds.unit) as DurationUnit;
  const ms = Math.round(Number(m[1]) * DURATION_UNITS_MS[unit]);
  const min = bounds.minMs ?? 1;
  const max =
    bounds.notATimer === true && bounds.maxMs !== undefined
      ? bounds.maxMs
      : Math.min(bounds.maxMs ?? MAX_DURATION_MS, MAX_DURATION_MS);
  if (!Number.isFinite(ms) || ms < min || ms > max) {
    throw new CertvigilError(
      'USAGE',
      `${flag} must be between ${formatDuration(min)} and ${formatDuration(max)} (got ${value.trim()})`,
    );
  }
  return ms;
}

function unitName(unit: DurationUnit): string {
  return { ms: 'milliseconds', s: 'seconds', m: 'minutes', h: 'hours', d: 'days' }[unit];
}

/** `1500` → `1.5s`, `300000` → `5m`: the shortest exact form for messages. */
export function formatDuration(ms: number): string {
  for (const [unit, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  if (ms >= 1000) return `${ms / 1000}s`;
  return `${ms}ms`;
}
