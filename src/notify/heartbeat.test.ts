import { describe, expect, it } from 'vitest';
import { formatText, summaryLine } from './format.js';
import { heartbeatDue, heartbeatEvent } from './heartbeat.js';
import { hookEnvironment } from './exec.js';

const DAY = 86_400_000;
const NOW = new Date('2026-12-07T12:00:00.000Z');
const at = (ms: number): string => new Date(NOW.getTime() + ms).toISOString();

describe('heartbeatDue', () => {
  it.each<[string, string | null, boolean]>([
    ['never sent', null, true],
    ['sent just now', at(0), false],
    ['sent a minute short of a day ago', at(-DAY + 60_000), false],
    ['sent exactly a day ago', at(-DAY), true],
    ['sent two days ago', at(-2 * DAY), true],
    ['a little in the future (clock skew)', at(60_000), false],
    ['more than an interval in the future (clock set back)', at(DAY + 1), true],
    ['an unreadable record', 'yesterday', true],
  ])('%s → %s', (_name, last, due) => {
    expect(heartbeatDue(last, NOW, DAY)).toBe(due);
  });
});

describe('heartbeatEvent', () => {
  it('says the monitor is alive, with counts; formatted by every sink', () => {
    const e = heartbeatEvent(NOW, { logs: 40, staleLogs: 1, pendingAlerts: 0, lastCycleAt: at(-60_000) });
    expect(e).toMatchObject({ type: 'heartbeat', severity: 'info', at: NOW.toISOString() });
    expect(summaryLine(e)).toBe(
      'INFO certvigil heartbeat: certvigil monitor alive: 40 logs (1 behind), 0 alerts pending, last pass 2026-12-07T11:59:00.000Z',
    );
    expect(formatText(e)).toMatch(/If this message stops arriving/);
    expect(hookEnvironment(e, {})).toMatchObject({ EVENT: 'heartbeat', CERTVIGIL_EVENT_TYPE: 'heartbeat' });
  });
});
