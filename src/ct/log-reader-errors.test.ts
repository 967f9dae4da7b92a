/**
 * The log reader and the SCT verifier throw typed errors (issue 15): a CertvigilError with a code, never a plain Error,
 * for what crosses the module edge (the monitor, the `ct` commands).
 */
import { describe, expect, it } from 'vitest';
import { isCertvigilError } from '../errors.js';
import { generateKeyPairSync } from 'node:crypto';
import { compactTreeFromLastLeaf, createLogReader } from './log-reader.js';
import { verifySct } from './sct.js';
import { SignatureError } from './signature.js';
import type { LogInfo } from './types.js';

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  return undefined;
}

describe('log-reader errors are CertvigilErrors', () => {
  it.each([
    [4, 1],
    [8, 2],
    [6, 0],
  ])('an audit path too short for a tree of %i (%i hashes) is CT_BAD_RESPONSE', (size, n) => {
    const err = thrown(() =>
      compactTreeFromLastLeaf(
        size,
        new Uint8Array(32),
        Array.from({ length: n }, () => new Uint8Array(32)),
      ),
    );
    expect(isCertvigilError(err) && err.code).toBe('CT_BAD_RESPONSE');
    expect((err as Error).message).toBe(`audit path too short for a tree of ${size}`);
  });

  it('a log list key that is no public key is LOGLIST_INVALID', () => {
    const log: LogInfo = {
      kind: 'rfc6962',
      description: 'bad key log',
      operator: 'test',
      logId: Buffer.alloc(32, 1).toString('base64'),
      key: new Uint8Array([1, 2, 3]),
      url: 'https://bad-key.example/',
      mmdSeconds: 86_400,
      state: 'usable',
    };
    const err = thrown(() => createLogReader(log, { http: {} as never }));
    expect(isCertvigilError(err) && err.code).toBe('LOGLIST_INVALID');
    expect((err as Error).message).toMatch(/^log list key of bad key log is not a usable public key/);
  });
});

describe('verifySct', () => {
  it('an SCT of another version than v1 is a SignatureError (SIG_MALFORMED), as its doc says', () => {
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const sct = {
      version: 1,
      logId: new Uint8Array(32),
      timestamp: 0,
      extensions: new Uint8Array(),
      signature: { hashAlgorithm: 4, signatureAlgorithm: 3, signature: new Uint8Array([1]) },
      raw: new Uint8Array(),
    };
    const err = thrown(() => verifySct(sct, publicKey, { type: 'x509', certificate: new Uint8Array([1]) }));
    expect(err).toBeInstanceOf(SignatureError);
    expect(isCertvigilError(err) && err.code).toBe('SIG_MALFORMED');
    expect((err as Error).message).toBe('unsupported SCT version 1');
  });
});
