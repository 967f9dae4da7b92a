import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore } from '../../store/index.js';
import type { Store } from '../../store/types.js';
import { denial } from './caa-result.fixture.js';
import { dedupKey, reportDenial } from './enqueue.js';
import type { DenialInput } from './enqueue.js';
import { reporterPolicy } from './policy.js';

let dir: string;
let store: Store;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'certvigil-iodef-enqueue-'));
  store = await openStore({ stateDir: dir });
  await store.migrate();
});
afterEach(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

const NOW = new Date('2026-02-01T00:00:00.000Z');

function input(overrides: Partial<DenialInput> = {}): DenialInput {
  return {
    result: denial('www.example.com', [['iodef', 'mailto:caa@example.com']]),
    requestedNames: ['www.example.com'],
    validationMethod: 'dns-01',
    validationSucceeded: true,
    accountUri: 'https://acme.ca.example/acct/7',
    ca: { name: 'Example CA', domain: 'ca.example' },
    ...overrides,
  };
}

describe('dedupKey', () => {
  it('ignores name order and case, and differs by recipient and reason', () => {
    const k = dedupKey('mailto:a@example.com', ['b.example.com', 'A.example.com'], 'issuer-not-authorized');
    expect(k).toBe(
      dedupKey('mailto:a@example.com', ['a.example.com', 'b.example.com'], 'issuer-not-authorized'),
    );
    expect(k).not.toBe(
      dedupKey('mailto:b@example.com', ['a.example.com', 'b.example.com'], 'issuer-not-authorized'),
    );
    expect(k).not.toBe(
      dedupKey('mailto:a@example.com', ['a.example.com', 'b.example.com'], 'issuance-forbidden'),
    );
    expect(k).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('reportDenial', () => {
  it('enqueues one row per target with a fresh incident id and the IODEF document', async () => {
    const outcomes = await reportDenial(store, input(), reporterPolicy(), NOW);
    expect(outcomes).toMatchObject([{ outcome: 'enqueued', channel: 'mailto', names: ['www.example.com'] }]);
    const [row] = await store.listIodefOutbox();
    expect(row).toMatchObject({
      recipient: 'mailto:caa@example.com',
      channel: 'mailto',
      registeredDomain: 'example.com',
      names: ['www.example.com'],
      reason: 'issuer-not-authorized',
      incidentId: outcomes[0]?.incidentId,
      createdAt: NOW.toISOString(),
      nextAttemptAt: NOW.toISOString(),
      attempts: 0,
    });
    expect(row?.document).toContain('<IODEF-Document');
    expect(row?.document).toContain(row?.incidentId);
    expect(row?.document).not.toContain('acme.ca.example/acct/7');
  });

  it('includes the account URI only when the policy allows it', async () => {
    await reportDenial(store, input(), reporterPolicy({ includeAccountUri: true }), NOW);
    const [row] = await store.listIodefOutbox();
    expect(row?.document).toContain('https://acme.ca.example/acct/7');
  });

  it('sends a recipient listed by several refused names one report naming them all', async () => {
    const results = [
      denial('a.example.com', [['iodef', 'mailto:caa@example.com']]),
      denial('b.example.com', [['iodef', 'mailto:caa@example.com']]),
    ];
    const outcomes = await reportDenial(
      store,
      input({ result: results, requestedNames: ['a.example.com', 'b.example.com'] }),
      reporterPolicy(),
      NOW,
    );
    expect(outcomes).toMatchObject([{ outcome: 'enqueued', names: ['a.example.com', 'b.example.com'] }]);
    expect(await store.listIodefOutbox()).toHaveLength(1);
  });

  it('reports skipped targets with their reason and enqueues nothing for them', async () => {
    const outcomes = await reportDenial(
      store,
      input({ result: denial('www.example.com', [['iodef', 'mailto:victim@elsewhere.example']]) }),
      reporterPolicy(),
      NOW,
    );
    expect(outcomes).toMatchObject([{ outcome: 'mailto-outside-registered-domain', outboxId: null }]);
    expect(await store.listIodefOutbox()).toHaveLength(0);
  });

  it('cuts an oversized document down, and skips it when even that is too large', async () => {
    const many: [string, string][] = Array.from({ length: 200 }, (_, i) => ['issue', `ca${i}.example`]);
    many.push(['iodef', 'mailto:caa@example.com']);
    const requested = Array.from({ length: 200 }, (_, i) => `n${i}.example.com`);
    const big = input({ result: denial('www.example.com', many), requestedNames: requested });
    const full = await reportDenial(store, big, reporterPolicy(), NOW);
    expect(full[0]?.outcome).toBe('enqueued');
    const fullSize = (await store.listIodefOutbox())[0]?.document.length ?? 0;

    const cut = await reportDenial(
      store,
      big,
      reporterPolicy({ maxDocumentBytes: 8000 }),
      new Date(NOW.getTime() + 2 * 86_400_000),
    );
    expect(cut[0]?.outcome).toBe('enqueued');
    const cutDoc = (await store.listIodefOutbox())[1]?.document ?? '';
    expect(cutDoc.length).toBeLessThan(8000);
    expect(cutDoc.length).toBeLessThan(fullSize);

    const none = await reportDenial(
      store,
      big,
      reporterPolicy({ maxDocumentBytes: 500 }),
      new Date(NOW.getTime() + 4 * 86_400_000),
    );
    expect(none).toMatchObject([{ outcome: 'document-too-large', outboxId: null }]);
    expect(await store.listIodefOutbox()).toHaveLength(2);
  });
});
