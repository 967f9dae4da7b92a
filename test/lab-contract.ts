/**
 * What test/lab*.test.ts check of every `certvigil lab --json` run: issue 17's CONTRACT shape and
 * the loopback detectors' details (shared by the runs as root, unprivileged, and with --keep).
 */
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { TimedCliResult } from './cli-run.js';

/** The CONTRACT's bound; the run is killed a little later so that a slow run fails on the figure. */
export const CONTRACT_MS = 120_000;
export const KILL_MS = 150_000;
export const TEST_MS = 170_000;

export const isRoot = process.getuid?.() === 0;

export const DETECTORS = [
  'caa-accounturi-refusal',
  'iodef-report-received',
  'ct-internal-check',
  'external-check-pin',
  'external-check-other-ports-ok',
  'jarm-change',
  'last-hop-change',
] as const;

export interface Line {
  detector: string;
  fired: boolean;
  expected: boolean;
  detail: string;
}

/** A fresh private TMPDIR for one run (so the run's leftovers, if any, are visible). */
export async function freshTmp(parent: string, name: string): Promise<string> {
  const dir = join(parent, name);
  await mkdir(dir, { mode: 0o700 });
  return dir;
}

export function parseLines(stdout: string): Line[] {
  expect(stdout.endsWith('\n'), 'stdout ends with a newline').toBe(true);
  return stdout
    .slice(0, -1)
    .split('\n')
    .map((l) => JSON.parse(l) as Line);
}

/** The CONTRACT's shape: exactly seven lines, the four keys with their types, in the order. */
export function checkShape(r: TimedCliResult): Line[] {
  const lines = parseLines(r.stdout);
  expect(lines).toHaveLength(DETECTORS.length);
  for (const line of lines) {
    expect(Object.keys(line)).toEqual(['detector', 'fired', 'expected', 'detail']);
    expect(typeof line.detector).toBe('string');
    expect(typeof line.fired).toBe('boolean');
    expect(typeof line.expected).toBe('boolean');
    expect(typeof line.detail).toBe('string');
    expect(line.detail.length).toBeGreaterThan(0);
  }
  expect(lines.map((l) => l.detector)).toEqual([...DETECTORS]);
  return lines;
}

export const byName = (lines: Line[], name: string): Line => lines.find((l) => l.detector === name) as Line;
const portsIn = (text: string, re: RegExp): number[] =>
  [...text.matchAll(re)].map((m) => Number(m[1])).sort((a, b) => a - b);

/**
 * The six loopback detectors fired, and their details say what they saw: the account refused,
 * the report stored, the three reasons of the internal check, and the ports — the two intercepted
 * ones CRITICAL (pin and JARM alike), the third OK, together the ports `check mitm` probed.
 */
export function checkLoopbackDetectors(r: TimedCliResult, lines: Line[]): void {
  for (const name of DETECTORS.slice(0, 6)) {
    const line = byName(lines, name);
    expect({ name, fired: line.fired, expected: line.expected }, line.detail).toEqual({
      name,
      fired: true,
      expected: true,
    });
  }
  const caa = byName(lines, 'caa-accounturi-refusal').detail;
  expect(caa).toMatch(/refused the attacker's account https:\/\/\S+ at the caa stage/);
  expect(caa).toContain('after http-01 validation had succeeded');
  expect(caa).toContain('RFC 8657');
  expect(caa).toContain('caa check with that account: denied');

  const iodef = byName(lines, 'iodef-report-received').detail;
  expect(iodef).toMatch(/^the receiver stored 1 report\(s\) about jabber\.lab: HIGH /);
  expect(iodef).toContain('account-uri-mismatch');

  const internal = byName(lines, 'ct-internal-check').detail;
  for (const code of ['not-in-inventory', 'new-key', 'off-cadence']) expect(internal).toContain(code);
  expect(internal).toMatch(/serial [0-9a-f]+/);

  const pin = byName(lines, 'external-check-pin').detail;
  const intercepted = portsIn(pin, /port (\d+): CRITICAL, pin mismatch/g);
  expect(intercepted).toHaveLength(2);
  const other = byName(lines, 'external-check-other-ports-ok').detail;
  const untouched = portsIn(other, /port (\d+): OK/g);
  expect(untouched).toHaveLength(1);
  expect(intercepted).not.toContain(untouched[0]);

  const probed = /check mitm 127\.0\.0\.1 --ports (\d+),(\d+),(\d+)/.exec(r.stderr);
  expect(probed, 'the narration prints the check mitm command').not.toBeNull();
  expect(
    (probed ?? [])
      .slice(1)
      .map(Number)
      .sort((a, b) => a - b),
  ).toEqual([...intercepted, ...untouched].sort((a, b) => a - b));

  const jarm = byName(lines, 'jarm-change').detail;
  const m = /^CRITICAL on port\(s\) ([\d, ]+) only: /.exec(jarm);
  expect(m, jarm).not.toBeNull();
  expect((m?.[1] ?? '').split(', ').map(Number)).toEqual(intercepted);
  expect(jarm).not.toContain(String(untouched[0]));
}

/** A private TMPDIR is empty again after the run (no --keep: the world is removed). */
export async function expectEmpty(dir: string): Promise<void> {
  expect(await readdir(dir)).toEqual([]);
}

/** Prints the wall times of a file's lab runs (seconds, one line) for the report. */
export function reportTimings(file: string, timings: Record<string, number>): void {
  const shown = Object.entries(timings).map(([k, v]) => `${k} ${(v / 1000).toFixed(1)} s`);
  if (shown.length > 0) process.stderr.write(`${file} wall times: ${shown.join(', ')}\n`);
}
