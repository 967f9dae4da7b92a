import { describe, expect, it } from 'vitest';
import { denial } from './caa-result.fixture.js';
import { iodefTargets, parseIodefValue } from './targets.js';

describe('parseIodefValue', () => {
  it.each([
    ['mailto:Security@Example.COM', 'mailto', 'mailto:Security@example.com', 'example.com'],
    [
      'MAILTO:caa%2Breports@example.com?subject=hi&cc=x@evil.example',
      'mailto',
      'mailto:caa+reports@example.com',
      'example.com',
    ],
    ['mailto:sec@bücher.example', 'mailto', 'mailto:sec@xn--bcher-kva.example', 'xn--bcher-kva.example'],
    [
      'https://IODEF.example.com/report#frag',
      'https',
      'https://iodef.example.com/report',
      'iodef.example.com',
    ],
    ['https://[::1]:8443/x', 'https', 'https://[::1]:8443/x', '::1'],
    ['http://169.254.169.254/', 'https', 'http://169.254.169.254/', '169.254.169.254'],
  ])('%s is usable', (value, channel, recipient, host) => {
    const t = parseIodefValue(value);
    expect(t.problem).toBeNull();
    expect(t.channel).toBe(channel);
    expect(t.recipient).toBe(recipient);
    expect(t.host).toBe(host);
    expect(t.insecure).toBe(value.startsWith('http:'));
  });

  it.each([
    ['', 'malformed-url'],
    ['security@example.com', 'malformed-url'],
    ['ftp://example.com/', 'unsupported-scheme'],
    ['tel:+123', 'unsupported-scheme'],
    ['mailto:', 'mailto-no-address'],
    ['mailto:a@example.com,b@example.com', 'mailto-multiple-addresses'],
    ['mailto:nobody', 'mailto-bad-address'],
    ['mailto:"quoted local"@example.com', 'mailto-bad-address'],
    ['mailto:a@localhost', 'mailto-bad-address'],
    ['mailto:a@exa_mple.com', 'mailto-bad-address'],
    ['mailto:%E0%A4%A@example.com', 'malformed-url'],
    ['https://', 'malformed-url'],
    ['https://user:pw@example.com/', 'url-credentials'],
  ])('%j is reported as %s, not thrown', (value, problem) => {
    const t = parseIodefValue(value);
    expect(t.problem).toBe(problem);
    expect(t.recipient).toBeNull();
    expect(t.channel).toBeNull();
    expect(t.detail).toMatch(/\S/);
  });
});

describe('iodefTargets', () => {
  it('takes the iodef properties of the relevant record set, tags case-insensitively, in order', () => {
    const result = denial('www.example.com', [
      ['iodef', 'mailto:sec@example.com'],
      ['IODEF', 'https://iodef.example.com/'],
      ['issuewild', ';'],
      ['iodef', 'gopher://x'],
    ]);
    const targets = iodefTargets(result);
    expect(targets.map((t) => t.recipient ?? t.problem)).toEqual([
      'mailto:sec@example.com',
      'https://iodef.example.com/',
      'unsupported-scheme',
    ]);
    expect(targets[0]?.record).toBe('0 iodef "mailto:sec@example.com"');
  });

  it('is empty without iodef properties', () => {
    expect(iodefTargets(denial('example.com', []))).toEqual([]);
  });
});
