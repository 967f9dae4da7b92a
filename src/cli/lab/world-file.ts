/**
 * @module cli/lab/world-file
 * `world.json` in a kept lab directory: what `certvigil lab serve DIR` needs to bring the world back
 * on the same ports, so the commands the lab printed work again verbatim. The file is read as
 * untrusted input (the directory may have been edited): a strict schema, bounded size.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { CertvigilError } from '../../errors.js';
import { PRIVATE_FILE_MODE } from '../../state-files.js';

const port = z.number().int().min(1).max(65535);

const worldFileSchema = z
  .object({
    version: z.literal(1),
    domain: z.string().min(1).max(253),
    host: z.string().min(1).max(64),
    dnsPort: port,
    ctLogPort: port,
    ctLogPrefix: z.string().min(1).max(64),
    iodefPort: port,
    frontPorts: z.object({ https: port, xmppStarttls: port, xmppTls: port }).strict(),
    /** Whether the interceptor was in place when the lab stopped. */
    intercepted: z.boolean(),
  })
  .strict();

export type WorldFile = z.infer<typeof worldFileSchema>;

export const WORLD_FILE = 'world.json';
const MAX_BYTES = 64 * 1024;

export async function writeWorldFile(root: string, world: WorldFile): Promise<void> {
  await writeFile(join(root, WORLD_FILE), `${JSON.stringify(world, null, 2)}\n`, { mode: PRIVATE_FILE_MODE });
}

export async function readWorldFile(root: string): Promise<WorldFile> {
  const path = join(root, WORLD_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new CertvigilError(
      'USAGE',
      `${path} is missing or unreadable: give a directory made by \`certvigil lab --keep DIR\``,
    );
  }
  if (text.length > MAX_BYTES)
    throw new CertvigilError('USAGE', `${path} is too large to be a lab world file`);
  let json: unknown;
  try {
    json = JSON.parse(text) as unknown;
  } catch {
    throw new CertvigilError('USAGE', `${path} is not JSON`);
  }
  const parsed = worldFileSchema.safeParse(json);
  if (!parsed.success)
    throw new CertvigilError(
      'USAGE',
      `${path} is not a lab world file (${parsed.error.issues[0]?.message ?? 'invalid'})`,
    );
  return parsed.data;
}
