import { describe, expect, it } from 'vitest';
import { checkIodefUrl } from './iodef-url.js';

describe('checkIodefUrl (RFC 8659 §4.4, shared by caa audit and caa suggest --iodef)', () => {
  it.each([
    ['mailto:security@example.com', 'mailto'],
    ['MAILTO:security@example.com', 'mailto'],
    ['mailto:a@example.com,b@example.org', 'mailto'],
    ['mailto:caa+reports@example.com?subject=CAA', 'mailto'],
    ['mailto:caa%2Breports@example.com', 'mailto'],
    ['https://iodef.example.com/rid', 'https'],
    ['https://iodef.example.com:8443/', 'https'],
    ['https://xn--bcher-kva.example/', 'https'],
  ])('accepts %s', (value, scheme) => {
    expect(checkIodefUrl(value)).toEqual({ ok: true, scheme });
  });

  it.each<[string, 'scheme' | 'malformed', RegExp]>([
    ['http://iodef.example.com/', 'scheme', /clear text/],
    ['ftp://iodef.example.com/', 'scheme', /only mailto: and https:/],
    ['security@example.com', 'scheme', /only mailto: and https:/],
    ['', 'scheme', /only mailto: and https:/],
    ['mailto:', 'malformed', /without an address/],
    ['mailto:security', 'malformed', /not an e-mail address/],
    ['mailto:@example.com', 'malformed', /not an e-mail address/],
    ['mailto:a b@example.com', 'malformed', /spaces/],
    ['mailto:sec@localhost', 'malformed', /fully qualified/],
    ['mailto:sec@exa_mple.com', 'malformed', /bad domain/],
    ['mailto:sec@192.0.2.1', 'malformed', /IP address/],
    ['mailto:a..b@example.com', 'malformed', /bad local part/],
    ['mailto:%zz@example.com', 'malformed', /%-escape/],
    ['https://', 'malformed', /not a valid URL/],
    ['https://user:pw@iodef.example.com/', 'malformed', /credentials/],
    ['https://192.0.2.1/', 'malformed', /IP address/],
    ['https://[2001:db8::1]/', 'malformed', /IP address/],
    ['https://a\n.example.com/', 'malformed', /control/],
    ['https://iodef.example.com/\u202e', 'malformed', /non-ASCII/],
  ])('rejects %j (%s)', (value, kind, message) => {
    const r = checkIodefUrl(value);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.kind).toBe(kind);
      expect(r.error).toMatch(message);
    }
  });
});
