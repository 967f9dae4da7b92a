/**
 * The log-list key of a CT presence proof: an unusable key is a typed `SIG_BAD_KEY` error (issue 15:
 * no plain `Error` thrown across a module edge) whose message names the log, and the proof reports
 * it as an `error` source with that text, before asking the log anything.
 */
import { describe, expect, it } from 'vitest';
import type { LogInfo } from '../ct/index.js';
import { CertvigilError } from '../errors.js';
import { logKey } from './ct-presence-plan.js';
import { proveInclusionRfc6962, proveInclusionStatic } from './ct-presence-proof.js';

const badLog = (kind: LogInfo['kind']): LogInfo => ({
  kind,
  description: 'Broken Key Log',
  operator: 'Nobody',
  logId: 'AAAA',
  key: new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x00]),
  // Port 9 (discard) on loopback: never asked, the key fails first.
  url: 'http://127.0.0.1:9/log/',
  mmdSeconds: 86_400,
  state: 'usable',
});

describe('logKey', () => {
  it('throws SIG_BAD_KEY naming the log for a key that does not parse', () => {
    const err = (() => {
      try {
        logKey(badLog('rfc6962'));
        return undefined;
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(CertvigilError);
    expect((err as CertvigilError).code).toBe('SIG_BAD_KEY');
    expect((err as CertvigilError).message).toMatch(
      /^the log list key of Broken Key Log is not a usable public key \(/,
    );
  });
});

describe('an inclusion proof with an unusable log key', () => {
  it.each([
    ['rfc6962', () => proveInclusionRfc6962(badLog('rfc6962'), new Uint8Array(32), { timeoutMs: 2_000 })],
    [
      'static-ct-api',
      () => proveInclusionStatic(badLog('static-ct-api'), 0, new Uint8Array(32), { timeoutMs: 2_000 }),
    ],
  ])('%s: is an error source with the key message', async (_kind, run) => {
    const r = await run();
    expect(r).toMatchObject({ kind: 'inclusion-proof', where: 'http://127.0.0.1:9/log/', status: 'error' });
    expect(r.detail).toMatch(/^the log list key of Broken Key Log is not a usable public key \(/);
  });
});
