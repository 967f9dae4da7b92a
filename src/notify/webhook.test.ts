/**
 * The webhook notifier against a real node:http server on 127.0.0.1: what it sends, and that
 * non-2xx answers, redirects, refused connections and silence are failures.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { issuanceEvent } from './events.fixture.js';
import { eventId, eventJson } from './format.js';
import { createWebhookNotifier } from './webhook.js';

interface Received {
  method: string | undefined;
  url: string | undefined;
  headers: http.IncomingHttpHeaders;
  body: string;
}

type Handler = (req: http.IncomingMessage, res: http.ServerResponse, received: Received) => void;

const servers: http.Server[] = [];

async function startServer(handler: Handler): Promise<{ url: string; received: Received[] }> {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r = {
        method: req.method,
        url: req.url,
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      received.push(r);
      handler(req, res, r);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, received };
}

afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

describe('webhook notifier', () => {
  it('POSTs the JSON form with its headers and accepts any 2xx', async () => {
    const { url, received } = await startServer((_req, res) => {
      res.writeHead(204).end();
    });
    const notifier = createWebhookNotifier({
      url: `${url}/hooks/certvigil?token=s3cret`,
      headers: { Authorization: 'Bearer abc', 'Content-Type': 'text/plain' },
    });
    expect(notifier.name).toBe('webhook');
    const event = issuanceEvent();
    await notifier.send(event);
    expect(received).toHaveLength(1);
    const r = received[0] as Received;
    expect(r.method).toBe('POST');
    expect(r.url).toBe('/hooks/certvigil?token=s3cret');
    expect(r.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(r.headers.authorization).toBe('Bearer abc');
    expect(r.headers['user-agent']).toMatch(/^certvigil\//);
    expect(r.headers['idempotency-key']).toBe(eventId(event));
    expect(JSON.parse(r.body)).toEqual(eventJson(event));
  });

  it.each([
    [500, 'internal trouble'],
    [404, 'no such hook'],
    [302, ''],
  ])('fails on HTTP %i without leaking the URL path or query', async (status, body) => {
    const { url } = await startServer((_req, res) => {
      res.writeHead(status, { location: 'http://127.0.0.1:1/' }).end(body);
    });
    const notifier = createWebhookNotifier({ url: `${url}/secret-path?token=s3cret` });
    const err = await notifier.send(issuanceEvent()).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'NOTIFY_FAILED', sink: 'webhook', status });
    const message = (err as Error).message;
    expect(message).toContain(`answered HTTP ${status}`);
    if (body !== '') expect(message).toContain(body);
    expect(message).not.toContain('s3cret');
    expect(message).not.toContain('secret-path');
  });

  it('fails with NOTIFY_TIMEOUT when the server does not answer in time', async () => {
    const { url, received } = await startServer(() => {
      // never answers
    });
    const notifier = createWebhookNotifier({ url, timeoutMs: 300 });
    const started = Date.now();
    await expect(notifier.send(issuanceEvent())).rejects.toMatchObject({
      code: 'NOTIFY_TIMEOUT',
      sink: 'webhook',
    });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(received).toHaveLength(1);
  });

  it('fails with NOTIFY_TIMEOUT when the body trickles past the deadline', async () => {
    const { url } = await startServer((_req, res) => {
      res.writeHead(200);
      res.write('{');
      // the rest never comes
    });
    const notifier = createWebhookNotifier({ url, timeoutMs: 300 });
    await expect(notifier.send(issuanceEvent())).rejects.toMatchObject({ code: 'NOTIFY_TIMEOUT' });
  });

  it('fails with NOTIFY_FAILED when nothing listens', async () => {
    const { url } = await startServer(() => undefined);
    const server = servers.pop() as http.Server;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const notifier = createWebhookNotifier({ url });
    await expect(notifier.send(issuanceEvent())).rejects.toMatchObject({
      code: 'NOTIFY_FAILED',
      sink: 'webhook',
    });
  });
});
