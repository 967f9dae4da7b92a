import { describe, expect, it } from 'vitest';
import { parsePorts, parseStartTlsMap } from './mitm.js';

describe('mitm flags', () => {
  it('--ports: a comma-separated list, deduplicated, each 1..65535', () => {
    expect(parsePorts('443, 5222,5269,443')).toEqual([443, 5222, 5269]);
    for (const bad of ['0', '65536', 'x', '443;5222', '-1'])
      expect(() => parsePorts(bad)).toThrow(/--ports: bad port/);
  });
  it('--starttls: PORT=PROTO with a known protocol', () => {
    expect(parseStartTlsMap(['5222=xmpp', '5269=xmpp-server', '25=smtp'])).toEqual({
      5222: 'xmpp',
      5269: 'xmpp-server',
      25: 'smtp',
    });
    for (const bad of ['xmpp', '5222=jabber', '=xmpp', '5222:xmpp'])
      expect(() => parseStartTlsMap([bad])).toThrow(/--starttls wants PORT=PROTO/);
  });
});
