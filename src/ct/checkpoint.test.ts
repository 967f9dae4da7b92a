import { createPublicKey, generateKeyPairSync, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CheckpointError,
  formatCheckpoint,
  parseCheckpoint,
  parseSignedNote,
  rfc6962NoteKeyId,
  verifyCheckpoint,
} from './checkpoint.js';
import type { CheckpointErrorCode } from './errors.js';
import { logIdOf, publicKeyFromSpki } from './signature.js';
import { parseSthJson, treeHeadSignatureInput } from './sth.js';
import type { SignedTreeHead } from './types.js';

const CT = new URL('../../test/vectors/ct/', import.meta.url);
const read = (p: string): string => readFileSync(new URL(p, CT), 'utf8');
const b64 = (u: Uint8Array): string => Buffer.from(u).toString('base64');

const checkpoint = read('sunlight/cmd/skylight/testdata/tree/checkpoint');
const logJson = JSON.parse(read('sunlight/cmd/skylight/testdata/tree/log.v3.json')) as {
  description: string;
  key: string;
  log_id: string;
  final_tree_head: { sha256_root_hash: string; timestamp: number; tree_size: number };
};
const spki = new Uint8Array(Buffer.from(logJson.key, 'base64'));
const origin = 'rome2026h1.example.org';

function codeOf(fn: () => unknown): CheckpointErrorCode | 'ok' {
  try {
    fn();
    return 'ok';
  } catch (err) {
    if (err instanceof CheckpointError) return err.code;
    throw err;
  }
}

describe('skylight testdata/tree/checkpoint with log.v3.json', () => {
  it('verifies, and its tree head is the list’s final_tree_head', () => {
    const sth = verifyCheckpoint(checkpoint, { origin, key: spki });
    expect(sth.timestamp).toBe(1767139200000);
    expect(sth.timestamp).toBe(logJson.final_tree_head.timestamp);
    expect(sth.treeSize).toBe(logJson.final_tree_head.tree_size);
    expect(b64(sth.rootHash)).toBe(logJson.final_tree_head.sha256_root_hash);
    expect(b64(logIdOf(spki))).toBe(logJson.log_id);
  });

  it('also verifies with an imported KeyObject (with or without the SPKI bytes)', () => {
    const key = publicKeyFromSpki(spki);
    expect(verifyCheckpoint(checkpoint, { origin, key, spki }).treeSize).toBe(300);
    expect(verifyCheckpoint(checkpoint, { origin, key }).treeSize).toBe(300);
    // `spki` is what the key ID is computed from: the wrong bytes find no signature.
    expect(codeOf(() => verifyCheckpoint(checkpoint, { origin, key, spki: spki.subarray(1) }))).toBe(
      'CHECKPOINT_NO_SIGNATURE',
    );
  });

  it('has exactly 3 body lines and its origin is the log description', () => {
    const note = parseSignedNote(checkpoint);
    expect(note.text.split('\n')).toEqual([origin, '300', logJson.final_tree_head.sha256_root_hash, '']);
    expect(parseCheckpoint(note.text).extensions).toEqual([]);
    expect(parseCheckpoint(note.text).origin).toBe(logJson.description);
  });

  it('key ID = SHA-256(name || 0x0A || 0x05 || log ID)[:4], not over the raw SPKI', () => {
    const [sig] = parseSignedNote(checkpoint).signatures;
    expect(sig?.name).toBe(origin);
    expect(sig?.keyId).toBe(rfc6962NoteKeyId(origin, logIdOf(spki)));
    expect(sig?.keyId).not.toBe(rfc6962NoteKeyId(origin, spki));
  });

  const sigLine = checkpoint.split('\n')[4] ?? '';
  const sigBytes = Buffer.from(sigLine.split(' ')[2] ?? '', 'base64');
  const witness = `\u2014 witness.example/w1 ${b64(new Uint8Array(68).fill(7))}`;
  const sameNameOtherId = `\u2014 ${origin} ${b64(new Uint8Array(76).fill(9))}`;
  const body = (size: string, root = logJson.final_tree_head.sha256_root_hash): string =>
    `${origin}\n${size}\n${root}\n`;
  const otherRoot = b64(new Uint8Array(32));

  it.each<[string, string, CheckpointErrorCode | 'ok']>([
    ['as served', checkpoint, 'ok'],
    ['a witness cosignature beside it', `${checkpoint}${witness}\n`, 'ok'],
    [
      'a signature with the log name but another key ID',
      `${body('300')}\n${sameNameOtherId}\n${sigLine}\n`,
      'ok',
    ],
    ['size changed to 301', `${body('301')}\n${sigLine}\n`, 'CHECKPOINT_BAD_SIGNATURE'],
    ['root changed', `${body('300', otherRoot)}\n${sigLine}\n`, 'CHECKPOINT_BAD_SIGNATURE'],
    ['an extension line', `${body('300')}ext\n\n${sigLine}\n`, 'CHECKPOINT_EXTENSION_LINES'],
    ['only unknown signatures', `${body('300')}\n${witness}\n`, 'CHECKPOINT_NO_SIGNATURE'],
    ['the log signature twice', `${body('300')}\n${sigLine}\n${sigLine}\n`, 'CHECKPOINT_MALFORMED'],
    [
      'a known key ID over garbage',
      `${body('300')}\n\u2014 ${origin} ${b64(Buffer.concat([sigBytes.subarray(0, 4), Buffer.from('garbage')]))}\n`,
      'CHECKPOINT_BAD_SIGNATURE',
    ],
    [
      'signature with a trailing byte',
      `${body('300')}\n\u2014 ${origin} ${b64(Buffer.concat([sigBytes, Buffer.from([0])]))}\n`,
      'CHECKPOINT_BAD_SIGNATURE',
    ],
    ['size with a leading zero', `${body('0300')}\n${sigLine}\n`, 'CHECKPOINT_MALFORMED'],
    ['size not a number', `${body('3e2')}\n${sigLine}\n`, 'CHECKPOINT_MALFORMED'],
    ['size beyond 2^53', `${body('9007199254740993')}\n${sigLine}\n`, 'CHECKPOINT_MALFORMED'],
    ['root of 31 bytes', `${body('300', b64(new Uint8Array(31)))}\n${sigLine}\n`, 'CHECKPOINT_MALFORMED'],
    ['root not base64', `${body('300', 'not base64')}\n${sigLine}\n`, 'CHECKPOINT_MALFORMED'],
    ['empty origin', `\n300\n${otherRoot}\n\n${sigLine}\n`, 'CHECKPOINT_MALFORMED'],
    ['no blank line', `${body('300')}${sigLine}\n`, 'CHECKPOINT_MALFORMED'],
    ['no final newline', checkpoint.slice(0, -1), 'CHECKPOINT_MALFORMED'],
    ['CRLF line ends', checkpoint.replace(/\n/g, '\r\n'), 'CHECKPOINT_MALFORMED'],
    ['a tab', checkpoint.replace(' ', '\t'), 'CHECKPOINT_MALFORMED'],
    ['hyphen instead of em dash', checkpoint.replace('\u2014', '-'), 'CHECKPOINT_MALFORMED'],
    ['two spaces', checkpoint.replace(`${origin} `, `${origin}  `), 'CHECKPOINT_MALFORMED'],
    ['key name with a plus', `${checkpoint}\u2014 a+b ${b64(new Uint8Array(8))}\n`, 'CHECKPOINT_MALFORMED'],
    [
      'key name with a no-break space',
      `${checkpoint}\u2014 a\u00a0b ${b64(new Uint8Array(8))}\n`,
      'CHECKPOINT_MALFORMED',
    ],
    [
      'signature shorter than a key ID',
      `${checkpoint}\u2014 w ${b64(new Uint8Array(4))}\n`,
      'CHECKPOINT_MALFORMED',
    ],
    ['no signatures', `${body('300')}\n`, 'CHECKPOINT_MALFORMED'],
    // The last blank line splits text from signatures, so the log's line becomes a body line.
    ['a blank line among signatures', `${checkpoint}\n${witness}\n`, 'CHECKPOINT_MALFORMED'],
    ['a lone surrogate', checkpoint.replace(origin, `${origin}\ud800`), 'CHECKPOINT_MALFORMED'],
  ])('%s → %s', (_n, note, code) => {
    expect(codeOf(() => verifyCheckpoint(note, { origin, key: spki }))).toBe(code);
  });

  it('refuses another origin', () => {
    expect(codeOf(() => verifyCheckpoint(checkpoint, { origin: 'rome2026h2.example.org', key: spki }))).toBe(
      'CHECKPOINT_WRONG_ORIGIN',
    );
  });

  it('takes bytes, and refuses invalid UTF-8', () => {
    expect(verifyCheckpoint(Buffer.from(checkpoint), { origin, key: spki }).treeSize).toBe(300);
    const bad = Buffer.concat([Buffer.from(checkpoint), Buffer.from([0xff, 0x0a])]);
    expect(codeOf(() => verifyCheckpoint(bad, { origin, key: spki }))).toBe('CHECKPOINT_MALFORMED');
  });
});

describe('formatCheckpoint', () => {
  it('turns an RFC 6962 get-sth into a checkpoint that verifies (sunlight rfc6962-sth.json)', () => {
    const sth = parseSthJson(JSON.parse(read('sunlight/extracted/rfc6962-sth.json')));
    const der = new Uint8Array(
      createPublicKey(read('sunlight/extracted/rfc6962-sth.pub.pem')).export({ type: 'spki', format: 'der' }),
    );
    const text = formatCheckpoint(sth, 'ct.example/log', logIdOf(der));
    const got = verifyCheckpoint(text, { origin: 'ct.example/log', key: der });
    expect([got.treeSize, got.timestamp, b64(got.rootHash)]).toEqual([
      sth.treeSize,
      sth.timestamp,
      b64(sth.rootHash),
    ]);
  });

  it('reproduces the skylight checkpoint byte for byte', () => {
    const sth = verifyCheckpoint(checkpoint, { origin, key: spki });
    expect(formatCheckpoint(sth, origin, logIdOf(spki))).toBe(checkpoint);
  });

  it.each(['ec', 'rsa'] as const)('round-trips tree heads signed with a fresh %s key', (type) => {
    const { publicKey, privateKey } =
      type === 'ec'
        ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
        : generateKeyPairSync('rsa', { modulusLength: 2048 });
    const der = new Uint8Array(publicKey.export({ type: 'spki', format: 'der' }));
    fc.assert(
      fc.property(
        fc.nat({ max: Number.MAX_SAFE_INTEGER }),
        fc.nat({ max: Number.MAX_SAFE_INTEGER }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        (treeSize, timestamp, rootHash) => {
          const unsigned = { treeSize, timestamp, rootHash };
          const sth: SignedTreeHead = {
            ...unsigned,
            signature: {
              hashAlgorithm: 4,
              signatureAlgorithm: type === 'ec' ? 3 : 1,
              signature: sign('sha256', treeHeadSignatureInput(unsigned), privateKey),
            },
          };
          const got = verifyCheckpoint(formatCheckpoint(sth, 'o.example', logIdOf(der)), {
            origin: 'o.example',
            key: der,
          });
          expect([got.treeSize, got.timestamp, b64(got.rootHash)]).toEqual([
            treeSize,
            timestamp,
            b64(rootHash),
          ]);
        },
      ),
      { numRuns: 20 },
    );
  });
});

describe('property: arbitrary notes fail only with CheckpointError', () => {
  it('random text and mutations of the real checkpoint', () => {
    const mutated = fc
      .tuple(fc.nat(), fc.string({ maxLength: 3, unit: 'grapheme' }), fc.nat(3))
      .map(([at, s, del]) => {
        const i = at % checkpoint.length;
        return checkpoint.slice(0, i) + s + checkpoint.slice(i + del);
      });
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary' }), mutated), (note) => {
        try {
          verifyCheckpoint(note, { origin, key: spki });
        } catch (err) {
          expect(err).toBeInstanceOf(CheckpointError);
        }
      }),
      { numRuns: 500 },
    );
  });
});
