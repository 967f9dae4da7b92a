import { describe, expect, it } from 'vitest';
import { DEFAULT_LOG_LIMITS, limitsFor, parseConfigText, resolveConfig } from './config.js';

const SECRET = 'hunter2-S3cret';

function errorOf(text: string): Error & { code?: string } {
  try {
    parseConfigText(text, 'cfg.yaml');
  } catch (err) {
    return err as Error & { code?: string };
  }
  throw new Error('no error');
}

describe('config file errors never echo the source or a value (issue 12)', () => {
  it.each([
    [
      'unterminated quote in the SMTP password',
      `alerts:\n  email:\n    smtp: { host: mx.test, port: 25, password: "${SECRET}\n    from: a@b.test\n`,
      /^cfg\.yaml:\d+:\d+: [^\n]+$/,
    ],
    [
      'bad indentation under the password',
      `alerts:\n  email:\n    smtp:\n      password: ${SECRET}\n       user: x: y\n`,
      /^cfg\.yaml:\d+:\d+: /,
    ],
    ['duplicate key', `stateDir: /a\nstateDir: ${SECRET}\n`, /^cfg\.yaml:2:1: Map keys must be unique$/],
    ['a flow sequence left open', `names: [${SECRET}\n`, /^cfg\.yaml:\d+:\d+: /],
  ])('YAML: %s → FILE:LINE:COL: reason', (_what, text, shape) => {
    const err = errorOf(text);
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.message).toMatch(shape);
    expect(err.message).not.toContain(SECRET);
    expect(err.message).not.toContain('\n');
  });

  it.each([
    [
      'a password of the wrong type',
      `alerts:\n  email:\n    smtp: { host: h, port: 25, password: 12345678 }\n    from: a@b.test\n    to: [x@y.test]\n`,
      /alerts\.email\.smtp\.password: expected string/,
      '12345678',
    ],
    [
      'a secret under an unknown key',
      `token: ${SECRET}\n`,
      /^cfg\.yaml: \(top\): unknown key token$/,
      SECRET,
    ],
    [
      'a webhook URL with its token that is no URL',
      `alerts:\n  webhook: { url: "not a url ${SECRET}" }\n`,
      /alerts\.webhook\.url: must be a valid url/,
      SECRET,
    ],
    [
      'a port out of range',
      `alerts:\n  email:\n    smtp: { host: h, port: 70000 }\n    from: a@b.test\n    to: [x@y.test]\n`,
      /alerts\.email\.smtp\.port: must be at most 65535/,
      '70000',
    ],
    ['a value where a list is expected', `names: ${SECRET}\n`, /^cfg\.yaml: names: expected array$/, SECRET],
  ])('schema: %s names the key path, never the value', (_what, text, shape, value) => {
    const err = errorOf(text);
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.message).toMatch(shape);
    expect(err.message).not.toContain(value);
  });

  it('escapes control bytes in key names', () => {
    expect(errorOf('"evil\\e[2J": 1\n').message).toBe('cfg.yaml: (top): unknown key evil\\x1B[2J');
  });

  it('refuses binary content without showing it', () => {
    expect(errorOf(`a: 1\n\u0000${SECRET}`).message).toBe('cfg.yaml: binary content: not YAML');
  });
});

describe('durations in the config: the one syntax of the flags, bounded', () => {
  it.each([
    ['intervalSeconds: 300', 300_000],
    ['intervalSeconds: 5m', 300_000],
    ['intervalSeconds: 90s', 90_000],
    ['intervalSeconds: 1500ms', 1500],
    ['intervalSeconds: 1d', 86_400_000],
  ])('%s → %d ms', (text, ms) => {
    expect(parseConfigText(text, 'cfg.yaml').intervalSeconds).toBe(ms);
  });

  it.each([
    ['intervalSeconds: 2147484', /intervalSeconds: must be a duration/], // past 2^31 ms
    ['intervalSeconds: 25d', /intervalSeconds: must be a duration/],
    ['intervalSeconds: 0', /intervalSeconds: must be a duration/],
    ['intervalSeconds: 500ms', /intervalSeconds: must be a duration/], // under 1 s
    ['intervalSeconds: -5', /intervalSeconds: must be a duration/],
    ['intervalSeconds: soon', /intervalSeconds: must be a duration/],
    [
      'alerts:\n  exec: { command: x, timeoutMs: 99999999999 }',
      /alerts\.exec\.timeoutMs: must be a duration/,
    ],
  ])('%s is refused', (text, message) => {
    expect(errorOf(text).message).toMatch(message);
  });

  it('timeouts take units too', () => {
    const c = parseConfigText(
      'alerts:\n  webhook: { url: "https://h.test/x", timeoutMs: 15s }\n',
      'cfg.yaml',
    );
    expect(c.alerts?.webhook?.timeoutMs).toBe(15_000);
  });
});

describe('per-log limits (issue 13)', () => {
  const file = parseConfigText(
    [
      'logDefaults: { concurrency: 2, timeout: 10s }',
      'perLog:',
      '  Google: { requestsPerSecond: 5 }',
      '  https://ct.example/2026/: { concurrency: 1, requestsPerSecond: 0 }',
    ].join('\n'),
    'c.yaml',
  );
  const config = resolveConfig(file, {}, { stateDir: '/s', logList: 'l' });
  it.each([
    [
      'defaults from the file',
      { url: 'https://other.example/', operator: 'X' },
      { concurrency: 2, requestsPerSecond: null, timeoutMs: 10_000 },
    ],
    [
      'by operator',
      { url: 'https://argon.example/', operator: 'Google' },
      { concurrency: 2, requestsPerSecond: 5, timeoutMs: 10_000 },
    ],
    [
      'by URL (trailing slash ignored), 0 = no rate',
      { url: 'https://ct.example/2026', operator: 'Google' },
      { concurrency: 1, requestsPerSecond: null, timeoutMs: 10_000 },
    ],
  ])('%s', (_what, log, expected) => {
    expect(limitsFor(log, config)).toEqual(expected);
  });
  it('without a config: 4 in flight, no fixed rate, 30 s per request', () => {
    expect(
      limitsFor({ url: 'u', operator: 'o' }, resolveConfig({}, {}, { stateDir: '/s', logList: 'l' })),
    ).toEqual(DEFAULT_LOG_LIMITS);
  });
  it('refuses an unknown limit key', () => {
    expect(() => parseConfigText('perLog: { Google: { burst: 3 } }', 'c.yaml')).toThrow(/unknown key burst/);
  });
});

describe('issue 13 keys: hooks.d directory, heartbeat, log list refresh', () => {
  it('accepts a hooks directory, a heartbeat and logListMaxAge in the one duration syntax', () => {
    const c = parseConfigText(
      'logListMaxAge: 30m\nalerts:\n  heartbeat: 24h\n  exec: { directory: /etc/certvigil/hooks.d }\n',
      'cfg.yaml',
    );
    expect(c.logListMaxAge).toBe(1_800_000);
    expect(c.alerts?.heartbeat).toBe(86_400_000);
    expect(c.alerts?.exec).toEqual({ directory: '/etc/certvigil/hooks.d' });
    expect(resolveConfig(c, {}, { stateDir: '/s', logList: null }).logListMaxAgeMs).toBe(1_800_000);
    expect(resolveConfig({}, {}, { stateDir: '/s', logList: null }).logListMaxAgeMs).toBe(3_600_000);
  });

  it.each([
    ['an exec with neither command nor directory', 'alerts:\n  exec: { timeoutMs: 5s }\n'],
    ['a heartbeat under a minute', 'alerts:\n  heartbeat: 5s\n'],
    ['an unknown exec key', 'alerts:\n  exec: { command: x, dir: y }\n'],
  ])('rejects %s', (_label, text) => {
    expect(() => parseConfigText(text, 'cfg.yaml')).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID' }),
    );
  });
});
