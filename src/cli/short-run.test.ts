import { describe, expect, it } from 'vitest';
import { endsWithItsAction, positionals } from './short-run.js';

const argv = (...args: string[]): string[] => ['node', 'certvigil', ...args];

describe('positionals', () => {
  it('skips options and the global --log-level value', () => {
    expect(positionals(argv('--log-level', 'debug', 'check', '-t', 'endpoint'))).toEqual([
      'check',
      'endpoint',
    ]);
    expect(positionals(argv('--log-level=info', 'jarm', 'a:443'))).toEqual(['jarm', 'a:443']);
    expect(positionals(argv('--version'))).toEqual([]);
  });
});

describe('endsWithItsAction: which commands exit as soon as their output is flushed', () => {
  it.each([
    [['check', 'endpoint', 'example.org'], true],
    [['check', 'endpoints', '--config', 'x.yaml'], true],
    [['--log-level', 'debug', 'check', 'endpoint', '--help'], true],
    [['jarm', 'example.org:443'], true],
    // Not listed: their actions were not audited for work left running after they return.
    [['check', 'monitor'], false],
    [['check', 'mitm', 'learn'], false],
    [['check'], false],
    // Long-lived on purpose: the event loop decides when they end.
    [['serve'], false],
    [['monitor'], false],
    [['--help'], false],
    [[], false],
  ])('%j → %s', (args, expected) => {
    expect(endsWithItsAction(argv(...args))).toBe(expected);
  });
});
