import { describe, expect, it } from 'vitest';
import { isSafeText } from '../../sanitize.js';
import { RESULT_JSON_MAX } from '../../store/index.js';
import { MAX_PORTS, parseMitmTarget, parsePorts, parseStartTlsMap, recordedJson } from './mitm.js';

describe('mitm flags', () => {
  it('--ports: a comma-separated list, each 1..65535', () => {
    expect(parsePorts('443, 5222,5269')).toEqual([443, 5222, 5269]);
    expect(parsePorts('65535,1')).toEqual([65535, 1]);
  });
  it.each([
    ['0', /bad port "0"/],
    ['65536', /bad port/],
    ['70000', /bad port/],
    ['x', /bad port/],
    ['443;5222', /bad port/],
    ['-1', /bad port/],
    ['1e3', /bad port/],
    ['443,,', /bad port ""/],
    ['', /no port given/],
    [',', /no port given/],
    ['443,5222,443', /port 443 given twice/],
    [Array.from({ length: MAX_PORTS + 1 }, (_, i) => String(i + 1)).join(','), /at most 64 ports/],
    ['44\u001b[2J3', /bad port/],
  ])('--ports %j is a usage error (%s)', (text, why) => {
    let message = '';
    try {
      parsePorts(text);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(why);
    expect(isSafeText(message)).toBe(true);
  });
  it('--starttls: PORT=PROTO with a known protocol', () => {
    expect(parseStartTlsMap(['5222=xmpp', '5269=xmpp-server', '25=smtp'])).toEqual({
      5222: 'xmpp',
      5269: 'xmpp-server',
      25: 'smtp',
    });
  });
  it.each([
    ['xmpp', /--starttls wants PORT=PROTO/],
    ['5222=jabber', /--starttls wants PORT=PROTO/],
    ['=xmpp', /--starttls wants PORT=PROTO/],
    ['5222:xmpp', /--starttls wants PORT=PROTO/],
    ['0=xmpp', /PORT 1-65535/],
    ['70000=xmpp', /PORT 1-65535/],
    ['5222=xmpp,5222=xmpp', /--starttls wants/],
  ])('--starttls %j is a usage error', (text, why) => {
    expect(() => parseStartTlsMap([text])).toThrow(why);
  });
  it('--starttls: one protocol per port', () => {
    expect(() => parseStartTlsMap(['5222=xmpp', '5222=smtp'])).toThrow(/port 5222 given twice/);
  });
  it.each([
    ['xmpp.example.test', 'xmpp.example.test'],
    ['127.0.0.1', '127.0.0.1'],
    ['[::1]', '::1'],
    ['::1', '::1'],
  ])('TARGET %j → %j', (text, host) => {
    expect(parseMitmTarget(text)).toBe(host);
  });
  it.each([
    ['[::1', /bad target/],
    ['host:443', /give the ports with --ports/],
    ['host:99999', /give the ports with --ports/],
    ['', /empty/],
    ['a b', /spaces/],
    [`${'l'.repeat(64)}.test`, /63/],
  ])('TARGET %j is a usage error', (text, why) => {
    expect(() => parseMitmTarget(text)).toThrow(why);
  });
});

describe('check mitm --record: the stored document', () => {
  type Result = Parameters<typeof recordedJson>[0];
  const verdict = {
    status: 'CRITICAL' as const,
    summary: '1 of 2 ports changed',
    findings: [
      { id: 'jarm-changed', severity: 'critical' as const, message: 'JARM \u202e', address: 'h:443' },
    ],
    target: 'h.example',
    ports: [443, 5222],
  };

  it('is the --json line, escapes and all, when it fits', () => {
    const result = { ...verdict, probes: [], baselines: [] } as unknown as Result;
    const text = recordedJson(result);
    expect(text).toContain('\\u202e');
    expect(JSON.parse(text)).toEqual(result);
  });

  it('leaves out the raw probes and the baselines (never the verdict) when over the store limit', () => {
    const huge = [{ port: 443, observation: { jarm: 'x'.repeat(RESULT_JSON_MAX) } }];
    const result = { ...verdict, probes: huge, baselines: huge } as unknown as Result;
    const text = recordedJson(result);
    expect(text.length).toBeLessThanOrEqual(RESULT_JSON_MAX);
    expect(JSON.parse(text)).toEqual({ ...verdict, probes: [], baselines: [], detailOmitted: true });
  });
});
