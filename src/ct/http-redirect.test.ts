/** The redirect policy of the CT HTTP client: same origin only, no credentials, a bounded count. */
import { describe, expect, it } from 'vitest';
import { isRedirect, MAX_REDIRECTS, redirectTarget } from './http-redirect.js';

const LOG = 'https://ct.example/log/ct/v1/get-sth';

describe('redirectTarget', () => {
  it.each<[string, string, number, ReturnType<typeof redirectTarget>]>([
    ['a relative path', '/other/ct/v1/get-sth', 1, { href: 'https://ct.example/other/ct/v1/get-sth' }],
    [
      'an absolute same-origin URL, fragment dropped',
      'https://ct.example/x#frag',
      2,
      { href: 'https://ct.example/x' },
    ],
    [
      'another host',
      'https://evil.example/x',
      1,
      {
        refused: "redirected to https://evil.example/x, outside the log's origin https://ct.example: refused",
      },
    ],
    [
      'a downgrade to http',
      'http://ct.example/x',
      1,
      { refused: "redirected to http://ct.example/x, outside the log's origin https://ct.example: refused" },
    ],
    [
      'credentials, not repeated in the message',
      'https://user:secret@ct.example/x',
      1,
      { refused: "redirected to https://ct.example/x, outside the log's origin https://ct.example: refused" },
    ],
    [
      'an unparsable Location',
      'https://[::1',
      1,
      { refused: 'redirected to an unparsable Location "https://[::1"' },
    ],
    ['one redirect too many', '/x', MAX_REDIRECTS + 1, { refused: `more than ${MAX_REDIRECTS} redirects` }],
  ])('%s', (_what, location, count, expected) => {
    expect(redirectTarget(LOG, LOG, location, count)).toEqual(expected);
  });
});

describe('isRedirect', () => {
  it.each<[number, string | undefined, boolean]>([
    [301, '/x', true],
    [308, '/x', true],
    [302, '', false],
    [307, undefined, false],
    [200, '/x', false],
    [304, '/x', false],
  ])('%i with Location %s: %s', (status, location, expected) => {
    expect(isRedirect(status, location)).toBe(expected);
  });
});
