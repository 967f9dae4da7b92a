/**
 * @module
 * Files of a kept lab CT log and CA (`certvigil lab --keep DIR`): written and read by the rules of
 * src/state-files.ts (directory 0700, files 0600 written atomically, never through a symlink), with
 * every fault of the content reported as one LabError naming the file, never a crash.
 */
import { join } from 'node:path';
import { LabError } from '../errors.js';
import { sanitizeText } from '../../sanitize.js';
import { ensureStateDir, readStateFile, writeStateFile } from '../../state-files.js';

/**
 * The error for a kept file that cannot be what was saved (truncated, edited, from another lab):
 * LAB_INVALID_REQUEST, since the lab was asked to serve something outside its world.
 */
export function invalidState(dir: string, file: string, detail: string, cause?: unknown): LabError {
  return new LabError(
    'LAB_INVALID_REQUEST',
    `kept lab file ${join(dir, file)} is not usable: ${sanitizeText(detail)} (truncated or edited? keep the lab again)`,
    cause === undefined ? undefined : { cause },
  );
}

/** Creates `dir` (0700) if needed and writes each [name, content] atomically, 0600, in order. */
export async function writeLabFiles(dir: string, files: readonly [string, string][]): Promise<void> {
  await ensureStateDir(dir);
  for (const [name, content] of files) await writeStateFile(join(dir, name), content);
}

/** The text of a kept file; a missing one is a LabError that says which part of the lab lacks it. */
export async function readLabFile(dir: string, name: string, what: string): Promise<string> {
  const text = await readStateFile(join(dir, name));
  if (text === null)
    throw new LabError(
      'LAB_INVALID_REQUEST',
      `no ${what} in ${dir}: ${name} is missing (was it saved there?)`,
    );
  return text;
}

/** JSON.parse that reports a damaged file as {@link invalidState}. */
export function parseJsonFile(dir: string, name: string, text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw invalidState(dir, name, 'not JSON', err);
  }
}
