import { createHash, X509Certificate } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rootCertificates } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { pemCertificates, publicRootHashes } from './public-roots.js';

const first = rootCertificates[0] ?? '';
const sha = (der: Uint8Array): string => createHash('sha256').update(der).digest('hex');

describe('public roots', () => {
  it('pemCertificates reads every CERTIFICATE block and nothing else', () => {
    const text = `junk\n${first}\n-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n${first}`;
    const ders = pemCertificates(text);
    expect(ders).toHaveLength(2);
    expect(new X509Certificate(ders[0] ?? Buffer.alloc(0)).raw.equals(ders[0] ?? Buffer.alloc(0))).toBe(true);
  });

  it("holds Node's bundled roots and the first readable system bundle", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cv-roots-'));
    try {
      const extra = new X509Certificate(rootCertificates[1] ?? '');
      await writeFile(join(dir, 'bundle.pem'), extra.toString());
      const hashes = await publicRootHashes([join(dir, 'missing.pem'), join(dir, 'bundle.pem')]);
      expect(hashes.has(sha(new X509Certificate(first).raw))).toBe(true);
      expect(hashes.has(sha(extra.raw))).toBe(true);
      expect(hashes.size).toBeGreaterThanOrEqual(rootCertificates.length - 5);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
