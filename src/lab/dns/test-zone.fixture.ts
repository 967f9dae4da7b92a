/**
 * The zone the responder's tests serve: the victim's names as `certvigil lab` lays them out, plus
 * RRsets too big for one UDP answer (RFC 1035 §4.2.1, RFC 6891 §6.2.5).
 */
import { LabZone } from './zone.js';

/** The victim's ACME account (bound in CAA, RFC 8657 §3) and the attacker's. */
export const ACCOUNT_1 = 'https://ca.lab/acme/acct/1';
export const ACCOUNT_2 = 'https://ca.lab/acme/acct/2';

export function labTestZone(): LabZone {
  const zone = new LabZone({ apexes: ['lab'] });
  zone.set('jabber.lab', 'A', ['127.0.0.1']);
  zone.set('jabber.lab', 'AAAA', ['::1']);
  zone.set('jabber.lab', 'CAA', [
    { flags: 0, tag: 'issue', value: `ca.lab; accounturi=${ACCOUNT_1}; validationmethods=http-01` },
    { flags: 0, tag: 'issuewild', value: ';' },
    { flags: 0, tag: 'iodef', value: 'http://127.0.0.1:9/iodef' },
  ]);
  zone.set('conference.jabber.lab', 'CNAME', ['jabber.lab']);
  zone.set('upload.jabber.lab', 'A', ['127.0.0.1']);
  // _tcp.jabber.lab then exists only as an empty non-terminal.
  zone.set('_xmpp-client._tcp.jabber.lab', 'TXT', ['srv stand-in']);
  zone.set('ca.lab', 'A', ['127.0.0.1']);
  zone.set(
    'big.lab',
    'TXT',
    Array.from({ length: 30 }, (_, i) => `${i}`.padEnd(200, 'x')),
  );
  zone.set(
    'bigcaa.lab',
    'CAA',
    Array.from({ length: 40 }, (_, i) => ({
      flags: 0,
      tag: 'issue',
      value: `ca-${i}.example; accounturi=https://ca-${i}.example/acct/${i}`,
    })),
  );
  return zone;
}
