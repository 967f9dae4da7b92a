/**
 * The lab prints every detector's command so the user can paste it: the quoting must survive a
 * POSIX shell (checked with /bin/sh itself), and the JSON-lines reader must never throw on what a
 * child printed.
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { displayCommand, jsonLinesOf, runnerUntil, shellQuote } from './run-certvigil.js';

/** What /bin/sh makes of a quoted word: the argument it would pass on. */
function shellWord(quoted: string): string {
  return execFileSync('/bin/sh', ['-c', `printf '%s' ${quoted}`], { encoding: 'utf8' });
}

describe('shellQuote', () => {
  it.each([
    'jabber.lab',
    '--state-dir',
    '/tmp/certvigil-lab-x/victim/state',
    '127.0.0.1:5353',
    'https://acme.ca.lab/acme/acct/2',
    'a=b,c@d%e+f',
  ])('leaves the plain word %j bare', (word) => {
    expect(shellQuote(word)).toBe(word);
  });

  it.each<[string, string]>([
    ['', "''"],
    ['certvigil lab CA', "'certvigil lab CA'"],
    ["it's", `'it'\\''s'`],
    ['"quoted"', `'"quoted"'`],
    ['$HOME', "'$HOME'"],
    ['a;rm -rf /', "'a;rm -rf /'"],
    ['`id`', "'`id`'"],
    ['*', "'*'"],
    ['~', "'~'"],
    ['line\nbreak', "'line\nbreak'"],
    ['jabber.lab’s', "'jabber.lab’s'"],
    ['δοκιμή.lab', "'δοκιμή.lab'"],
  ])('quotes %j as %s', (word, quoted) => {
    expect(shellQuote(word)).toBe(quoted);
  });

  it.each([
    '',
    ' ',
    "it's",
    "''",
    `'"'"'`,
    '$(id) `id` ${X}',
    'tab\there',
    'new\nline',
    'ünïcödé ✓ 🔒',
    '\\',
    '!x',
  ])('/bin/sh reads the quoted %j back unchanged', (word) => {
    expect(shellWord(shellQuote(word))).toBe(word);
  });
});

describe('displayCommand', () => {
  it('prefixes certvigil and quotes each argument', () => {
    expect(displayCommand(['iodef', 'send', '--ca-name', 'certvigil lab CA', '--from', ''])).toBe(
      "certvigil iodef send --ca-name 'certvigil lab CA' --from ''",
    );
  });

  it('leaves the wrapper words as given', () => {
    expect(displayCommand(['check', 'mitm', '10.77.3.2'], ['ip', 'netns', 'exec', 'cv-1-client'])).toBe(
      'ip netns exec cv-1-client certvigil check mitm 10.77.3.2',
    );
  });

  it('with no arguments is just the program', () => {
    expect(displayCommand([])).toBe('certvigil');
  });
});

describe('jsonLinesOf', () => {
  it('reads one object per line, skipping human lines and broken JSON', () => {
    const text = [
      '{"a":1}',
      'CERTVIGIL OK - fine',
      '  {"b":"x y"}  ',
      '{"c":',
      '[1,2]',
      '"str"',
      '',
      '{"d":{"e":[1]}}',
    ].join('\n');
    expect(jsonLinesOf(text)).toEqual([{ a: 1 }, { b: 'x y' }, { d: { e: [1] } }]);
  });

  it.each(['', '\n\n', 'no json here', '{', '{{}}'])('returns [] for %j', (text) => {
    expect(jsonLinesOf(text)).toEqual([]);
  });

  it('handles CRLF line ends and unicode', () => {
    expect(jsonLinesOf('{"n":"δ✓"}\r\n{"m":2}\r\n')).toEqual([{ n: 'δ✓' }, { m: 2 }]);
  });
});

describe('runnerUntil: the lab’s time budget', () => {
  it('starts nothing once the deadline is (nearly) reached, and says why', async () => {
    const run = runnerUntil(Date.now() + 500);
    const r = await run(['caa', 'check', 'jabber.lab']);
    expect(r.code).toBeNull();
    expect(r.stderr).toContain("the lab's time budget is spent");
    expect(r.display).toBe('certvigil caa check jabber.lab');
    expect(r.ms).toBe(0);
  });

  it('keeps the earlier of its own deadline and the caller’s', async () => {
    const run = runnerUntil(Date.now() + 3_600_000);
    const r = await run(['caa', 'check', 'x'], { deadline: Date.now() - 1 });
    expect(r.code).toBeNull();
    expect(r.stderr).toContain('time budget');
  });
});
