// The app's files as the Fastify server serves them, with what scripts/static-server.mjs did
// before it: cross-origin isolation on every response, our MIME types, immutable /assets/ and
// no-cache elsewhere, the SPA fallback, 404 for missing files and dotfiles, 405 for POST (the
// share target is the service worker's), ETag revalidation. A small fixture build, no real one.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testLathe } from './helpers';

let lathe: Awaited<ReturnType<typeof testLathe>>;
let dist: string;

beforeAll(async () => {
  const probe = await testLathe();
  dist = join(probe.dir, 'dist');
  await probe.close();
  mkdirSync(join(dist, 'assets'), { recursive: true });
  mkdirSync(join(dist, 'samples'), { recursive: true });
  writeFileSync(join(dist, 'index.html'), '<!doctype html><title>Lathe</title>');
  writeFileSync(join(dist, 'assets', 'main-abc123.js'), 'console.log(1)');
  writeFileSync(join(dist, 'assets', 'tfjs-backend-wasm-x1.wasm'), Buffer.from([0, 97, 115, 109]));
  writeFileSync(join(dist, 'manifest.webmanifest'), '{}');
  writeFileSync(join(dist, 'samples', 'iris.csv'), 'a,b\n1,2\n');
  writeFileSync(join(dist, 'sw.js'), 'self.x = 1');
  writeFileSync(join(dist, '.lathe-build-stamp'), 'secret-ish');
  lathe = await testLathe({ distDir: dist });
});
afterAll(async () => lathe.dispose());

const get = (url: string, headers: Record<string, string> = {}) => lathe.app.inject({ url, headers });

describe('the built app', () => {
  it('sends cross-origin isolation headers with every response, pages, assets, errors and the API alike', async () => {
    for (const url of ['/', '/assets/main-abc123.js', '/nope.js', '/api/health', '/api/jobs']) {
      const r = await get(url);
      expect(r.headers['cross-origin-opener-policy'], url).toBe('same-origin');
      expect(r.headers['cross-origin-embedder-policy'], url).toBe('require-corp');
      expect(r.headers['cross-origin-resource-policy'], url).toBe('same-origin');
      expect(r.headers['x-content-type-options'], url).toBe('nosniff');
    }
  });

  it('serves content-hashed assets as immutable and everything else as no-cache, with our MIME types', async () => {
    const js = await get('/assets/main-abc123.js');
    expect(js.statusCode).toBe(200);
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(js.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    const wasm = await get('/assets/tfjs-backend-wasm-x1.wasm');
    expect(wasm.headers['content-type']).toBe('application/wasm');
    const cases: [string, string][] = [
      ['/', 'text/html; charset=utf-8'],
      ['/manifest.webmanifest', 'application/manifest+json; charset=utf-8'],
      ['/samples/iris.csv', 'text/csv; charset=utf-8'],
      ['/sw.js', 'text/javascript; charset=utf-8'],
    ];
    for (const [url, type] of cases) {
      const r = await get(url);
      expect(r.statusCode, url).toBe(200);
      expect(r.headers['content-type'], url).toBe(type);
      expect(r.headers['cache-control'], url).toBe('no-cache');
    }
  });

  it('answers client-side routes with index.html, and a missing file with a plain 404', async () => {
    for (const url of ['/jobs/123', '/settings', '/assets']) {
      const r = await get(url);
      expect(r.statusCode, url).toBe(200);
      expect(r.body, url).toContain('<title>Lathe</title>');
    }
    const missing = await get('/assets/gone-999.js');
    expect(missing.statusCode).toBe(404);
    expect(missing.body).toBe('Not found\n');
    expect(missing.headers['cache-control']).toBe('no-cache');
  });

  it('never serves dotfiles or anything outside the build', async () => {
    for (const url of ['/.lathe-build-stamp', '/%2e%2e/package.json', '/../package.json', '/assets/%00x.js', '/%E0%A4%A'])
      expect((await get(url)).statusCode, url).toBe(404);
  });

  it('revalidates with the ETag (304) and answers HEAD without a body', async () => {
    const first = await get('/sw.js');
    const etag = first.headers.etag as string;
    expect(etag).toMatch(/^W\/"/);
    expect((await get('/sw.js', { 'if-none-match': etag })).statusCode).toBe(304);
    const head = await lathe.app.inject({ method: 'HEAD', url: '/' });
    expect(head.statusCode).toBe(200);
    expect(head.body).toBe('');
  });

  it('answers other methods with 405, including a share-target POST that no service worker caught', async () => {
    for (const method of ['POST', 'PUT', 'DELETE'] as const) {
      const r = await lathe.app.inject({ method, url: method === 'POST' ? '/share-target' : '/' });
      expect(r.statusCode, method).toBe(405);
      expect(r.headers.allow).toBe('GET, HEAD');
    }
  });

  it('keeps /api to the API: an unknown API path is a JSON 404, never the page', async () => {
    const r = await get('/api/nothing-here');
    expect(r.statusCode).toBe(404);
    expect(r.json()).toMatchObject({ error: 'not_found' });
  });
});
