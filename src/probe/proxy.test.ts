import { describe, expect, it } from 'vitest';
import { CertvigilError } from '../errors.js';
import { isSafeText } from '../sanitize.js';
import { chooseProxy, describeProxySpec, maskProxyUrl, parseProxy, proxyFinding } from './proxy.js';

const SECRET = 'hunter2';

describe('parseProxy', () => {
  it.each([
    ['http://127.0.0.1:3128', { kind: 'http', host: '127.0.0.1', port: 3128, remoteDns: true }],
    ['http://proxy.test', { kind: 'http', host: 'proxy.test', port: 1080, remoteDns: true }],
    ['http://[::1]:8080/', { kind: 'http', host: '::1', port: 8080, remoteDns: true }],
    ['socks5://127.0.0.1:9050', { kind: 'socks5', host: '127.0.0.1', port: 9050, remoteDns: false }],
    ['socks5h://proxy.test', { kind: 'socks5', host: 'proxy.test', port: 1080, remoteDns: true }],
    [
      'http://us%40er:p%3Ass@proxy.test:3128',
      { kind: 'http', host: 'proxy.test', port: 3128, auth: { username: 'us@er', password: 'p:ss' } },
    ],
    ['socks5://u:p@127.0.0.1:1', { kind: 'socks5', auth: { username: 'u', password: 'p' } }],
  ])('%s', (url, want) => {
    expect(parseProxy(url)).toMatchObject(want);
  });

  it.each([
    [`https://u:${SECRET}@proxy.test:3128`, /supports http:\/\/, socks5:\/\/ and socks5h:\/\/ only/],
    [`http://u:${SECRET}@proxy.test:3128/path`, /no.*path.*"http:\/\/\*\*\*@proxy\.test:3128\/path"/],
    [`http://u:${SECRET}@proxy.test:3128?q`, /path, query or fragment/],
    [`http://u:${SECRET}@:3128`, /must be a URL|needs a host/],
    [`not a url ${SECRET}@x`, /must be a URL/],
    [`http://a%3Ab:${SECRET}@proxy.test`, /must not contain ":"/],
    [`http://u:${SECRET}%0d%0aX:1@proxy.test`, /control characters/],
    [`http://u:%E0%A4%A@proxy.test`, /percent-encoded/],
    [`socks5://u:${'p'.repeat(256)}@proxy.test`, /255 bytes/],
    ['socks4://127.0.0.1:1080', /only/],
  ])('rejects %s without showing the password', (url, why) => {
    let error: unknown;
    try {
      parseProxy(url);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CertvigilError);
    expect((error as CertvigilError).code).toBe('USAGE');
    expect((error as Error).message).toMatch(why);
    expect((error as Error).message).not.toContain(SECRET);
    expect(isSafeText((error as Error).message)).toBe(true);
  });

  it('names the setting it came from', () => {
    expect(() => parseProxy('ftp://x', 'ALL_PROXY')).toThrow(/^ALL_PROXY supports/);
  });
});

describe('maskProxyUrl and describeProxySpec', () => {
  it.each([
    ['http://u:p@h:1', '"http://***@h:1"'],
    ['u:p@h:1', '"***@h:1"'],
    ['http://h:1', '"http://h:1"'],
    ['http://a@b@h:1/x@y', '"http://***@h:1/x@y"'],
    ['http://h\u001b[31m:1', '"http://h\\u001b[31m:1"'],
  ])('%j → %s', (url, shown) => {
    const out = maskProxyUrl(url);
    expect(isSafeText(out)).toBe(true);
    if (!url.includes('\u001b')) expect(out).toBe(shown);
  });
  it('never shows credentials', () => {
    const spec = parseProxy(`http://u:${SECRET}@[::1]:3128`);
    expect(describeProxySpec(spec)).toBe('http://[::1]:3128');
    expect(describeProxySpec(parseProxy('socks5h://h:1'))).toBe('socks5h://h:1');
  });
});

describe('chooseProxy', () => {
  const tls = { host: 'www.example.test', port: 443, starttls: false };
  const smtp = { host: 'mail.example.test', port: 25, starttls: true };
  it.each([
    ['--proxy wins', tls, { flag: 'socks5://f:1' }, { https_proxy: 'http://e:1' }, 'socks5://f:1', '--proxy'],
    [
      '--no-proxy ignores the environment',
      tls,
      { noProxy: true },
      { https_proxy: 'http://e:1' },
      undefined,
      undefined,
    ],
    ['https_proxy for TLS', tls, {}, { https_proxy: 'http://e:1' }, 'http://e:1', 'https_proxy'],
    [
      'lower case first',
      tls,
      {},
      { https_proxy: 'http://l:1', HTTPS_PROXY: 'http://u:1' },
      'http://l:1',
      'https_proxy',
    ],
    ['HTTPS_PROXY', tls, {}, { HTTPS_PROXY: 'http://u:1' }, 'http://u:1', 'HTTPS_PROXY'],
    [
      'blank is unset',
      tls,
      {},
      { https_proxy: ' ', ALL_PROXY: 'socks5h://a:1' },
      'socks5h://a:1',
      'ALL_PROXY',
    ],
    ['all_proxy as fallback', tls, {}, { all_proxy: 'socks5://a:1' }, 'socks5://a:1', 'all_proxy'],
    ['no scheme is http', tls, {}, { https_proxy: 'e:3128' }, 'http://e:3128', 'https_proxy'],
    ['STARTTLS ignores https_proxy', smtp, {}, { https_proxy: 'http://e:1' }, undefined, undefined],
    [
      'STARTTLS uses all_proxy',
      smtp,
      {},
      { https_proxy: 'http://e:1', all_proxy: 'http://a:1' },
      'http://a:1',
      'all_proxy',
    ],
    ['http_proxy is not for TLS', tls, {}, { http_proxy: 'http://e:1' }, undefined, undefined],
    [
      'NO_PROXY suffix',
      tls,
      {},
      { https_proxy: 'http://e:1', NO_PROXY: 'example.test' },
      undefined,
      undefined,
    ],
    [
      'NO_PROXY .suffix',
      tls,
      {},
      { https_proxy: 'http://e:1', no_proxy: '.example.test' },
      undefined,
      undefined,
    ],
    [
      'NO_PROXY other name',
      tls,
      {},
      { https_proxy: 'http://e:1', NO_PROXY: 'badexample.test,other' },
      'http://e:1',
      'https_proxy',
    ],
    ['NO_PROXY *', smtp, {}, { all_proxy: 'http://a:1', no_proxy: '*' }, undefined, undefined],
    [
      'NO_PROXY with port',
      smtp,
      {},
      { all_proxy: 'http://a:1', no_proxy: 'example.test:25' },
      undefined,
      undefined,
    ],
    [
      'NO_PROXY other port',
      smtp,
      {},
      { all_proxy: 'http://a:1', no_proxy: 'example.test:587' },
      'http://a:1',
      'all_proxy',
    ],
  ])('%s', (_name, target, settings, env, want, source) => {
    const got = chooseProxy(target, settings, env);
    if (want === undefined) expect(got).toBeUndefined();
    else {
      expect(got && describeProxySpec(got)).toBe(want);
      expect(got?.source).toBe(source);
    }
  });

  it.each([
    ['127.0.0.1', '127.0.0.0/8', undefined],
    ['127.0.0.1', 'localhost', 'http://e:1'],
    ['::1', '::1', undefined],
    ['::1', '[::1]', undefined],
    ['2001:db8::5', '2001:db8::/32', undefined],
    ['10.1.2.3', '10.0.0.0/8,192.168.0.0/16', undefined],
    ['10.1.2.3', '192.168.0.0/16', 'http://e:1'],
  ])('IP %s with NO_PROXY=%s → %s (loopback is not exempt unless listed, as curl)', (host, no, want) => {
    const got = chooseProxy(
      { host, port: 443, starttls: false },
      {},
      { https_proxy: 'http://e:1', NO_PROXY: no },
    );
    expect(got && describeProxySpec(got)).toBe(want);
  });

  it('loopback goes through the proxy when NO_PROXY does not list it', () => {
    expect(
      chooseProxy({ host: '127.0.0.1', port: 443, starttls: false }, {}, { https_proxy: 'http://e:1' }),
    ).toBeDefined();
  });

  it('a bad environment value is a usage error naming the variable, password masked', () => {
    expect(() => chooseProxy(tls, {}, { HTTPS_PROXY: `https://u:${SECRET}@e:1` })).toThrow(
      /^HTTPS_PROXY supports/,
    );
    try {
      chooseProxy(tls, {}, { all_proxy: `http://u:${SECRET}@e:1/x` });
    } catch (e) {
      expect((e as Error).message).toMatch(/^all_proxy must not have a path/);
      expect((e as Error).message).not.toContain(SECRET);
    }
  });
});

describe('proxyFinding', () => {
  it('says which proxy and where the setting came from, without credentials', () => {
    const f = proxyFinding({ ...parseProxy(`http://u:${SECRET}@127.0.0.1:3128`), source: 'HTTPS_PROXY' });
    expect(f).toEqual({
      id: 'proxy',
      severity: 'info',
      message: 'checked through HTTP proxy http://127.0.0.1:3128 (HTTPS_PROXY)',
      address: '*',
    });
    expect(proxyFinding(parseProxy('socks5h://[::1]:9050')).message).toBe(
      'checked through SOCKS5 proxy socks5h://[::1]:9050',
    );
  });
});
