import { describe, expect, it } from 'vitest';
import { parseXml } from '../xml.js';
import { reportMail, reportMessageId, reportText, ridReportMessage } from './compose.js';
import { OUTBOX_DOCUMENT as DOC, outboxRecord as record } from './outbox-record.fixture.js';

describe('ridReportMessage', () => {
  it('is one well-formed RID Report message with the IODEF document inside', () => {
    const rid = ridReportMessage(record({ incidentId: 'a<b' }));
    const root = parseXml(rid);
    expect(root.name).toEqual({ ns: 'urn:ietf:params:xml:ns:iodef-rid-2.0', local: 'RID' });
    expect(root.children.map((c) => c.name.local)).toEqual(['RIDPolicy', 'IODEF-Document']);
    expect(rid).toContain('a&lt;b');
  });
});

describe('reportMessageId', () => {
  it('is derived from the incident id and the From domain', () => {
    expect(reportMessageId('1234-abcd', 'CA <iodef@ca.example>')).toBe('<iodef.1234-abcd@ca.example>');
    expect(reportMessageId('x y', 'iodef@ca.example')).toBe('<iodef.x-y@ca.example>');
  });
});

describe('reportText', () => {
  it('says what, why, how risky and what to do, falling back to the reason code for the risk', () => {
    const text = reportText(record());
    expect(text).toContain('Names refused: www.example.com');
    expect(text).toContain('Reason:        account-uri-mismatch');
    expect(text).toMatch(/Risk: +medium/);
    expect(text).toContain('another account of the authorised CA');
    expect(text).toContain('CAA made Example CA refuse.');
  });
});

describe('reportMail', () => {
  it('is the text, the document as application/xml, a stable Message-ID and Auto-Submitted (RFC 3834 §5)', () => {
    const mail = reportMail(record(), 'CA <iodef@ca.example>', 'caa@example.com');
    expect(mail).toMatchObject({
      from: 'CA <iodef@ca.example>',
      to: 'caa@example.com',
      subject: 'CAA refused a certificate for www.example.com (account-uri-mismatch)',
      text: reportText(record()),
      messageId: '<iodef.id-1@ca.example>',
      headers: { 'Auto-Submitted': 'auto-generated', 'Iodef-Incident-Id': 'id-1' },
      attachments: [
        { filename: 'iodef-id-1.xml', content: DOC, contentType: 'application/xml; charset=utf-8' },
      ],
    });
  });

  it('cuts a long subject to 180 characters', () => {
    const names = Array.from({ length: 40 }, (_, i) => `host${i}.example.com`);
    const subject = String(reportMail(record({ names }), 'iodef@ca.example', 'caa@example.com').subject);
    expect(subject).toHaveLength(180);
    expect(subject.endsWith('...')).toBe(true);
  });
});
