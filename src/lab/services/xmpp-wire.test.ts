import { describe, expect, it } from 'vitest';
import { FEATURES_STARTTLS, scanElement, scanStreamHeader, serverHeader, streamError } from './xmpp-wire.js';

const HEADER =
  "<stream:stream to='jabber.lab' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>";

describe('scanStreamHeader (RFC 6120 §4.7)', () => {
  it.each([
    ['certvigil probe (src/probe/starttls/xmpp.ts)', `<?xml version='1.0'?>${HEADER}`, 'header'],
    ['openssl s_client -starttls xmpp (no XML declaration)', HEADER, 'header'],
    [
      'double quotes and a > inside a value',
      `<stream:stream to="a>b" xmlns:stream="http://etherx.jabber.org/streams">`,
      'header',
    ],
    ['other prefix', "<s:stream xmlns:s='http://etherx.jabber.org/streams'>", 'header'],
    ['empty', '', 'need-more'],
    ['split declaration', '<?xm', 'need-more'],
    ['split start tag', '<stream:str', 'need-more'],
    ['header without its end', "<stream:stream to='jabber.lab'", 'need-more'],
    ['an HTTP request', 'GET / HTTP/1.1\r\n', 'bad'],
    ['a TLS ClientHello', '\u0016\u0003\u0001\u0000', 'bad'],
    ['another element', '<iq/>', 'bad'],
    ['a processing instruction that is not the declaration', '<?php ?>', 'bad'],
    ['without the streams namespace', "<stream:stream to='jabber.lab'>", 'bad'],
  ])('%s', (_name, text, kind) => {
    expect(scanStreamHeader(text).kind).toBe(kind);
  });

  it('reads `to` and what was consumed', () => {
    const scan = scanStreamHeader(`${HEADER}<starttls`);
    expect(scan).toEqual({ kind: 'header', to: 'jabber.lab', consumed: HEADER.length });
  });
});

describe('scanElement', () => {
  it.each([
    ["<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>", 'starttls'],
    ['<starttls xmlns="urn:ietf:params:xml:ns:xmpp-tls"></starttls>', 'starttls'],
    ["  <starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'>", 'need-more'],
    ["<starttls xmlns='urn:other'/>", 'element'],
    ["<iq type='get'>", 'element'],
    ['</stream:stream>', 'close'],
    ['<sta', 'need-more'],
    ['hello', 'bad'],
  ])('%s → %s', (text, kind) => {
    expect(scanElement(text).kind).toBe(kind);
  });
});

describe('server replies', () => {
  it('spells the STARTTLS feature the way openssl s_client searches for it', () => {
    expect(FEATURES_STARTTLS).toContain("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'");
  });
  it('escapes the domain in the header and names the condition in a stream error', () => {
    expect(serverHeader("a'b", 'id')).toContain("from='a&#39;b'");
    expect(streamError('host-unknown')).toBe(
      "<stream:error><host-unknown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error></stream:stream>",
    );
  });
});
