/**
 * Small scripted servers on 127.0.0.1 for the STARTTLS dialogue tests (../starttls.test.ts and the
 * per-protocol tests beside this file): one connection each, a script playing the server, and the
 * helpers that check the hand-over to TLS. Test code only (`*.fixture.ts` is left out of the build).
 */
import net from 'node:net';
import { afterEach, expect } from 'vitest';
import { StartTlsError, negotiateStartTls } from './index.js';
import type { StartTlsOptions, StartTlsTranscript } from './index.js';
import { isCertvigilError } from '../../errors.js';
import type { StartTlsProtocol } from '../types.js';

/** The server's view of one connection. */
export interface Peer {
  send(data: string | Buffer): void;
  /** Resolves once everything received so far contains `text`; returns what was received. */
  waitFor(text: string | Buffer): Promise<Buffer>;
  received(): Buffer;
  socket: net.Socket;
}

export const servers: net.Server[] = [];
export const clients: net.Socket[] = [];

/** Registers the clean-up of this file's servers and clients (call once at the top of a test file). */
export function useScriptedServers(): void {
  afterEach(cleanUp);
}

async function cleanUp(): Promise<void> {
  for (const client of clients.splice(0)) client.destroy();
  await Promise.all(
    servers.splice(0).map(
      (server) =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
        }),
    ),
  );
  const errors = scriptErrors.splice(0);
  if (errors.length > 0) throw errors[0];
}

export class ClientGone extends Error {}

/** Assertion failures inside server scripts, reported by afterEach. */
const scriptErrors: unknown[] = [];

/** A one-connection server running `script`. */
export async function scripted(script: (peer: Peer) => Promise<void>): Promise<{ port: number }> {
  const server = net.createServer((socket) => {
    socket.on('error', () => undefined);
    let buffer = Buffer.alloc(0);
    let wake: (() => void) | undefined;
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      wake?.();
    });
    socket.on('close', () => wake?.());
    const peer: Peer = {
      socket,
      send: (data) => socket.write(data),
      received: () => buffer,
      waitFor: async (text) => {
        while (!buffer.includes(text)) {
          if (socket.destroyed) throw new ClientGone(`client closed before sending ${String(text)}`);
          await new Promise<void>((resolve) => (wake = resolve));
        }
        return buffer;
      },
    };
    // A script still waiting when the client gives up (timeouts, floods) is expected to end so.
    script(peer).catch((err: unknown) => {
      if (!(err instanceof ClientGone)) scriptErrors.push(err);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as net.AddressInfo;
  return { port: address.port };
}

export const OPTIONS: StartTlsOptions = { domain: 'example.test', timeoutMs: 2_000 };

export async function negotiate(
  port: number,
  protocol: StartTlsProtocol,
  options: Partial<StartTlsOptions> = {},
): Promise<{ socket: net.Socket; transcript: StartTlsTranscript }> {
  const socket = net.connect({ host: '127.0.0.1', port });
  clients.push(socket);
  const transcript = await negotiateStartTls(socket, protocol, { ...OPTIONS, ...options });
  return { socket, transcript };
}

export async function failure(promise: Promise<unknown>): Promise<StartTlsError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(StartTlsError);
    expect(isCertvigilError(err)).toBe(true);
    return err as StartTlsError;
  }
  throw new Error('expected the negotiation to fail');
}

/**
 * After a successful dialogue the next bytes on the wire belong to TLS: the client's bytes must
 * arrive right after the STARTTLS command, and the server's reply must reach a reader that takes
 * over the socket (nothing swallowed by listeners left behind).
 */
export async function handOver(
  socket: net.Socket,
  peer: Promise<Peer>,
  after: string | Buffer,
): Promise<void> {
  expect(socket.isPaused()).toBe(true);
  expect(socket.listenerCount('data')).toBe(0);
  socket.write('CLIENT-HELLO');
  const p = await peer;
  const received = await p.waitFor('CLIENT-HELLO');
  const tail = received.subarray(received.indexOf(after) + after.length);
  expect(tail.toString('latin1')).toBe('CLIENT-HELLO');
  p.send('SERVER-HELLO');
  const reply = await new Promise<string>((resolve) => {
    socket.once('data', (chunk: Buffer) => resolve(chunk.toString('latin1')));
    socket.resume();
  });
  expect(reply).toBe('SERVER-HELLO');
}

/** A scripted server whose Peer is also handed to the test once the script is done. */
export async function serverWithPeer(
  script: (peer: Peer) => Promise<void>,
): Promise<{ port: number; peer: Promise<Peer> }> {
  let give: (peer: Peer) => void = () => undefined;
  const peer = new Promise<Peer>((resolve) => (give = resolve));
  const { port } = await scripted(async (p) => {
    await script(p);
    give(p);
  });
  return { port, peer };
}
