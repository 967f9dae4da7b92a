import { createHash, generateKeyPairSync } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { CtHttpClient } from './http.js';
import { compactTreeFromLastLeaf, createLogReader, LogMisbehaviourError } from './log-reader.js';
import { CompactTree, leafHash } from './merkle.js';
import type { SignedTreeHead } from './types.js';

/** RFC 6962 §2.1.1 PATH(m, D[n]), written from the RFC as an independent reference. */
function path(m: number, leaves: Uint8Array[]): Uint8Array[] {
  const n = leaves.length;
  if (n <= 1) return [];
  let k = 1;
  while (k * 2 < n) k *= 2;
  const mth = (d: Uint8Array[]): Uint8Array => {
    const t = new CompactTree();
    for (const h of d) t.append(h);
    return t.root();
  };
  return m < k
    ? [...path(m, leaves.slice(0, k)), mth(leaves.slice(k))]
    : [...path(m - k, leaves.slice(k)), mth(leaves.slice(0, k))];
}

describe('compactTreeFromLastLeaf', () => {
  it.each([...Array(70).keys()].map((i) => i + 1))(
    'rebuilds the compact tree of size %i from the last leaf’s audit path',
    (n) => {
      const leaves = [...Array(n).keys()].map((i) =>
        leafHash(createHash('sha256').update(`leaf ${i}`).digest()),
      );
      const expected = new CompactTree();
      for (const h of leaves) expected.append(h);
      const rebuilt = compactTreeFromLastLeaf(n, leaves[n - 1] as Uint8Array, path(n - 1, leaves));
      expect(rebuilt.toJSON()).toEqual(expected.toJSON());
      // And it keeps growing like the real one.
      const extra = leafHash(new Uint8Array([1, 2, 3]));
      rebuilt.append(extra);
      expected.append(extra);
      expect(Buffer.from(rebuilt.root()).equals(Buffer.from(expected.root()))).toBe(true);
    },
  );
});

describe('static-ct-api tree head (issue 12)', () => {
  it.each([
    ['a tree size past 2^53', '99999999999999999999'],
    ['a negative tree size', '-1'],
  ])('a checkpoint with %s is CT_BAD_RESPONSE (cannot check), not misbehaviour', async (_n, size) => {
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const key = new Uint8Array(publicKey.export({ type: 'spki', format: 'der' }));
    const server = http.createServer((_req, res) => {
      res.end(`127.0.0.1/log\n${size}\n${Buffer.alloc(32).toString('base64')}\n\n— 127.0.0.1/log AAAA\n`);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/log/`;
    const client = new CtHttpClient({ maxAttempts: 1 });
    try {
      const reader = createLogReader(
        {
          kind: 'static-ct-api',
          description: 'test',
          operator: 'test',
          logId: createHash('sha256').update(key).digest('base64'),
          key,
          url,
          submissionUrl: url,
          mmdSeconds: 60,
          state: 'usable',
        },
        { http: client },
      );
      const err = await reader.treeHead().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).not.toBeInstanceOf(LogMisbehaviourError);
      expect(err).toMatchObject({
        code: 'CT_BAD_RESPONSE',
        message: expect.stringMatching(/checkpoint is malformed/),
      });
    } finally {
      await client.destroy();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});

describe('RFC 6962 compactTreeAt (issue 15)', () => {
  it('a get-proof-by-hash that puts the last leaf at another index is misbehaviour of kind bad-proof', async () => {
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const key = new Uint8Array(publicKey.export({ type: 'spki', format: 'der' }));
    const server = http.createServer((req, res) => {
      res.setHeader('content-type', 'application/json');
      if (req.url?.includes('/ct/v1/get-entries'))
        res.end(JSON.stringify({ entries: [{ leaf_input: 'AAAA', extra_data: '' }] }));
      // The last of 4 leaves is index 3; the log answers for index 1.
      else res.end(JSON.stringify({ leaf_index: 1, audit_path: [] }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const client = new CtHttpClient({ maxAttempts: 1 });
    try {
      const reader = createLogReader(
        {
          kind: 'rfc6962',
          description: 'test',
          operator: 'test',
          logId: createHash('sha256').update(key).digest('base64'),
          key,
          url,
          submissionUrl: url,
          mmdSeconds: 60,
          state: 'usable',
        },
        { http: client },
      );
      const sth: SignedTreeHead = {
        treeSize: 4,
        timestamp: 0,
        rootHash: new Uint8Array(32),
        signature: { hashAlgorithm: 4, signatureAlgorithm: 3, signature: new Uint8Array(0) },
      };
      const err = await reader.compactTreeAt(sth).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(LogMisbehaviourError);
      expect(err).toMatchObject({
        code: 'CT_LOG_MISBEHAVIOUR',
        kind: 'bad-proof',
        message: 'get-proof-by-hash placed the last leaf at 1',
        heads: [sth],
      });
    } finally {
      await client.destroy();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});
