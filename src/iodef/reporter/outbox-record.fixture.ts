/** Test fixture: one outbox row as the store returns it (a due mailto: report, never tried). */
import type { IodefOutboxRecord } from '../../store/types.js';

export const OUTBOX_DOCUMENT = `<?xml version="1.0" encoding="UTF-8"?>
<IODEF-Document version="2.00" xmlns="urn:ietf:params:xml:ns:iodef-2.0"><Incident purpose="reporting"><IncidentID name="ca.example">id-1</IncidentID><Description>CAA made Example CA refuse.</Description></Incident></IODEF-Document>
`;

export function outboxRecord(overrides: Partial<IodefOutboxRecord> = {}): IodefOutboxRecord {
  return {
    id: 1,
    dedupKey: 'k',
    recipient: 'mailto:caa@example.com',
    channel: 'mailto',
    registeredDomain: 'example.com',
    names: ['www.example.com'],
    reason: 'account-uri-mismatch',
    incidentId: 'id-1',
    document: OUTBOX_DOCUMENT,
    createdAt: '2026-01-01T00:00:00.000Z',
    attempts: 0,
    nextAttemptAt: '2026-01-01T00:00:00.000Z',
    sentAt: null,
    gaveUpAt: null,
    lastError: null,
    ...overrides,
  };
}
