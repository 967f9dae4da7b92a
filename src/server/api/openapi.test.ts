import { describe, expect, it } from 'vitest';
import { createApp } from '../app.js';
import type { Store } from '../../store/index.js';
import { openApiDocument } from './openapi.js';

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

describe('openapi.json', () => {
  // The routes are registered without touching the store: a stand-in that knows nothing will do.
  const nothing = new Proxy({}, { get: () => async () => null }) as unknown as Store;
  const app = createApp({
    store: nothing,
    logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
    secureCookies: false,
  });

  it('describes every registered /api/v1 route, and only those', () => {
    const registered = new Set(
      app.routes
        .filter((r) => r.path.startsWith('/api/v1') && r.method !== 'ALL')
        .map((r) => `${r.method} ${r.path}`),
    );
    const doc = openApiDocument('test') as { paths: Record<string, Record<string, unknown>> };
    const described = new Set(
      Object.entries(doc.paths).flatMap(([path, ops]) =>
        Object.keys(ops)
          .filter((m) => METHODS.includes(m))
          .map((m) => `${m.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`),
      ),
    );
    // Other parts of the server (host inventories) may register API routes of their own; each must be described.
    expect([...registered].filter((r) => !described.has(r))).toEqual([]);
    expect([...described].filter((r) => !registered.has(r))).toEqual([]);
    expect(registered.size).toBeGreaterThanOrEqual(12);
  });

  it('is an OpenAPI 3.1 document whose references resolve and whose operation IDs are unique', () => {
    const doc = openApiDocument('1.2.3') as {
      openapi: string;
      info: { version: string };
      components: { schemas: Record<string, unknown> };
      paths: Record<string, Record<string, { operationId: string }>>;
    };
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info.version).toBe('1.2.3');
    const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"#\/components\/schemas\/(\w+)"/g)].map(
      (m) => m[1],
    );
    for (const r of refs) expect(doc.components.schemas).toHaveProperty(r as string);
    const ids = Object.values(doc.paths).flatMap((ops) => Object.values(ops).map((o) => o.operationId));
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('is served at /api/v1/openapi.json, behind authentication', async () => {
    expect((await app.request('/api/v1/openapi.json')).status).toBe(401);
  });
});
