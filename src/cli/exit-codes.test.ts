import { describe, expect, it } from 'vitest';
import { CertvigilError } from '../errors.js';
import { isSafeText } from '../sanitize.js';
import { describeFailure, oneLine } from './exit-codes.js';

const hostile = 'greeting: 554 \u001b[31mgo\u202e away\r\nCERTVIGIL OK - forged';

describe('describeFailure', () => {
  it.each([
    [
      'an expected error',
      new CertvigilError('USAGE', `bad target ${hostile}`),
      false,
      {
        code: 2,
        stdout: '',
        stderr: /^certvigil: bad target greeting: 554 \\x1B\[31mgo\\u202E away CERTVIGIL OK - forged\n$/,
      },
    ],
    [
      'an expected error under check',
      new CertvigilError('USAGE', `bad target ${hostile}`),
      true,
      {
        code: 3,
        stdout:
          /^CERTVIGIL UNKNOWN - bad target greeting: 554 \\x1B\[31mgo\\u202E away CERTVIGIL OK - forged\n$/,
        stderr: '',
      },
    ],
    [
      // Not a CertvigilError (isCertvigilError checks the brand), yet still "could not decide".
      'a Node system error (ENOENT): one line, not an internal error',
      Object.assign(new Error("ENOENT: no such file or directory, open '/x'"), {
        code: 'ENOENT',
        errno: -2,
        syscall: 'open',
      }),
      false,
      { code: 2, stdout: '', stderr: "certvigil: ENOENT: no such file or directory, open '/x'\n" },
    ],
    [
      'a Node system error under check: UNKNOWN (3)',
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }),
      true,
      { code: 3, stdout: 'CERTVIGIL UNKNOWN - connect ECONNREFUSED 127.0.0.1:5432\n', stderr: '' },
    ],
    [
      'a bug: one line, no stack',
      new TypeError(`x is undefined ${hostile}`),
      false,
      {
        code: 2,
        stdout: '',
        stderr: /^certvigil: internal error: x is undefined greeting: 554 \\x1B.*forged\n$/,
      },
    ],
    [
      'a bug under check: UNKNOWN (3), never 1',
      new RangeError('boom'),
      true,
      { code: 3, stdout: /^CERTVIGIL UNKNOWN - internal error: boom\n$/, stderr: '' },
    ],
    [
      'a thrown string',
      'just a string',
      false,
      { code: 2, stdout: '', stderr: /^certvigil: internal error: just a string\n$/ },
    ],
  ] as const)('%s', (_name, err, plugin, want) => {
    const r = describeFailure(err, { plugin, debug: false });
    expect(r.code).toBe(want.code);
    if (typeof want.stdout === 'string') expect(r.stdout).toBe(want.stdout);
    else expect(r.stdout).toMatch(want.stdout);
    if (typeof want.stderr === 'string') expect(r.stderr).toBe(want.stderr);
    else expect(r.stderr).toMatch(want.stderr);
    expect(r.stdout.split('\n').length + r.stderr.split('\n').length).toBe(3);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('the stack only with --log-level debug, and only for bugs', () => {
    const bug = new Error('boom');
    const r = describeFailure(bug, { plugin: false, debug: true });
    expect(r.stderr.split('\n')[0]).toBe('certvigil: internal error: boom');
    expect(r.stderr).toMatch(/\n\s+at /);
    expect(describeFailure(new CertvigilError('USAGE', 'x'), { plugin: false, debug: true }).stderr).toBe(
      'certvigil: x\n',
    );
  });

  it('oneLine flattens and sanitises', () => {
    expect(oneLine(' a\r\n  b\u2028c ')).toBe('a b\\u2028c');
    expect(isSafeText(oneLine(hostile))).toBe(true);
  });
});
