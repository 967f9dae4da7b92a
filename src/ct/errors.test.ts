import { describe, expect, it } from 'vitest';
import { CertvigilError, isCertvigilError } from '../errors.js';
import { CheckpointError } from './checkpoint.js';
import { MerkleError } from './merkle.js';
import { SignatureError } from './signature.js';
import { TileError } from './tiles.js';

describe('CtError subclasses', () => {
  it.each([
    ['CheckpointError', () => new CheckpointError('CHECKPOINT_MALFORMED', 'm', { cause: 1 })],
    ['TileError', () => new TileError('TILE_MALFORMED', 'm', { cause: 1 })],
    ['SignatureError', () => new SignatureError('SIG_INVALID', 'm', { cause: 1 })],
    ['MerkleError', () => new MerkleError('MERKLE_BAD_SIZE', 'm', { cause: 1 })],
  ])('%s keeps its name, code, message, cause and CertvigilError base', (name, make) => {
    const e = make();
    expect(e.name).toBe(name);
    expect(e.message).toBe('m');
    expect(e.cause).toBe(1);
    expect(e).toBeInstanceOf(CertvigilError);
    expect(isCertvigilError(e)).toBe(true);
    expect(String(e)).toBe(`${name}: m`);
  });
});
