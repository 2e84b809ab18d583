// The production build's PWA: the service worker precaches everything an offline training run
// needs (and not the bench page or source maps), and the web manifest has the fields that make
// Lathe installable and a file/share target. Builds dist/ first when it is missing or stale.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT, buildIfStale } from '../../scripts/build-if-stale.mjs';
import { PRECACHE_MAX_FILE_BYTES } from '../../vite.config';

const DIST = join(PROJECT_ROOT, 'dist');
/** A cold production build on 2 cores; in ms. */
const BUILD_TIMEOUT_MS = 300_000;

interface PrecacheEntry {
  url: string;
  revision: string | null;
}

/** The list vite-plugin-pwa injected into dist/sw.js in place of `self.__WB_MANIFEST`. */
function precacheList(): PrecacheEntry[] {
  const sw = readFileSync(join(DIST, 'sw.js'), 'utf8');
  const match = /\[\{"revision":[^\]]*\]/.exec(sw) ?? /\[\{"url":[^\]]*\]/.exec(sw);
  if (!match) throw new Error('dist/sw.js has no injected precache list');
  return JSON.parse(match[0]) as PrecacheEntry[];
}

function assetNames(): string[] {
  return readdirSync(join(DIST, 'assets'));
}

let entries: PrecacheEntry[] = [];
let urls: string[] = [];

beforeAll(async () => {
  await buildIfStale({ log: () => undefined });
  entries = precacheList();
  urls = entries.map((e) => e.url.replace(/^\//, ''));
  const bytes = urls.reduce((sum, url) => sum + statSync(join(DIST, url)).size, 0);
  console.log(`precache: ${urls.length} entries, ${bytes} bytes (${(bytes / 1024 / 1024).toFixed(2)} MiB)`);
}, BUILD_TIMEOUT_MS);

describe('the page registers the service worker', () => {
  it('the production page script registers /sw.js (a non-production build would drop it)', () => {
    const html = readFileSync(join(DIST, 'index.html'), 'utf8');
    const scripts = [...html.matchAll(/<script[^>]+src="\/(assets\/[^"]+\.js)"/g)].map((m) => m[1]!);
    expect(scripts.length).toBeGreaterThan(0);
    expect(scripts.some((s) => readFileSync(join(DIST, s), 'utf8').includes('sw.js'))).toBe(true);
  });
});

describe('the service worker precaches an offline training run', () => {
  it('lists the app shell: index.html, the page script and styles', () => {
    expect(urls).toContain('index.html');
    const html = readFileSync(join(DIST, 'index.html'), 'utf8');
    const referenced = [...html.matchAll(/(?:src|href)="\/(assets\/[^"]+)"/g)].map((m) => m[1]);
    expect(referenced.length).toBeGreaterThan(0);
    for (const asset of referenced) expect(urls).toContain(asset);
  });

  it('lists the training worker chunk, although it is larger than Workbox’s 2 MiB default', () => {
    const workers = assetNames().filter((n) => /^trainer\.worker-.*\.js$/.test(n));
    expect(workers.length).toBeGreaterThan(0);
    for (const name of workers) {
      expect(urls).toContain(`assets/${name}`);
      expect(statSync(join(DIST, 'assets', name)).size).toBeLessThan(PRECACHE_MAX_FILE_BYTES);
    }
  });

  it('lists the training worker with the source its WASM pthreads load, so threads start offline too', () => {
    // The pthread workers are blobs made in the training worker: besides the threaded wasm binary
    // (precached below) they need the factory's unminified source, which the worker chunk carries
    // as a string (workers/wasm-threads.ts). The minifier renames this parameter everywhere else.
    const marker = 'WasmBackendModuleThreadedSimd = WasmBackendModuleThreadedSimd || {};';
    const workers = assetNames().filter((n) => /^trainer\.worker-.*\.js$/.test(n));
    const carrying = workers.filter((n) => readFileSync(join(DIST, 'assets', n), 'utf8').includes(marker));
    expect(carrying).toHaveLength(1);
    expect(urls).toContain(`assets/${carrying[0]}`);
  });

  it('lists all three tfjs wasm binaries', () => {
    const wasm = urls.filter((u) => u.endsWith('.wasm'));
    expect(wasm).toHaveLength(3);
    for (const kind of ['tfjs-backend-wasm-', 'tfjs-backend-wasm-simd-', 'tfjs-backend-wasm-threaded-simd-'])
      expect(wasm.some((u) => u.startsWith(`assets/${kind}`) && /^[^-]+$/.test(u.slice(`assets/${kind}`.length)))).toBe(true);
    const built = assetNames().filter((n) => n.endsWith('.wasm'));
    expect(wasm.sort()).toEqual(built.map((n) => `assets/${n}`).sort());
  });

  it('lists the sample dataset, the icons and the manifest', () => {
    expect(urls).toContain('samples/iris.csv');
    for (const icon of ['icons/icon-192.png', 'icons/icon-512.png', 'icons/icon-maskable-512.png'])
      expect(urls).toContain(icon);
    expect(urls).toContain('manifest.webmanifest');
  });

  it('leaves out source maps, the bench page and its worker, and lists each file once', () => {
    expect(urls.filter((u) => u.endsWith('.map'))).toEqual([]);
    expect(urls.filter((u) => /(^|\/)bench/.test(u))).toEqual([]);
    expect(new Set(urls).size).toBe(urls.length);
    // Every listed file exists in the build.
    for (const url of urls) expect(statSync(join(DIST, url)).isFile()).toBe(true);
  });
});

describe('the web manifest makes Lathe installable', () => {
  const manifest = (): Record<string, unknown> =>
    JSON.parse(readFileSync(join(DIST, 'manifest.webmanifest'), 'utf8')) as Record<string, unknown>;

  it('names the app and opens it standalone at /', () => {
    const m = manifest();
    expect(m).toMatchObject({
      id: '/',
      name: 'Lathe',
      short_name: 'Lathe',
      display: 'standalone',
      start_url: '/',
      scope: '/',
      theme_color: '#1f2937',
      background_color: '#1f2937',
    });
    expect(typeof m.description).toBe('string');
  });

  it('has 192 and 512 px icons and a maskable 512 px icon, each a real PNG of that size', () => {
    const icons = manifest().icons as { src: string; sizes: string; type: string; purpose?: string }[];
    const find = (sizes: string, purpose: string) =>
      icons.find((i) => i.sizes === sizes && (i.purpose ?? 'any').split(' ').includes(purpose));
    for (const icon of [find('192x192', 'any'), find('512x512', 'any'), find('512x512', 'maskable')]) {
      expect(icon).toBeDefined();
      const png = readFileSync(join(DIST, icon!.src.replace(/^\//, '')));
      expect(png.subarray(1, 4).toString('ascii')).toBe('PNG');
      const [w, h] = icon!.sizes.split('x').map(Number);
      expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([w, h]);
    }
  });

  it('opens .lathe packages, model zips and JSON files, and receives shared files by POST', () => {
    const m = manifest();
    expect(m.file_handlers).toEqual([
      {
        action: '/',
        accept: {
          'application/x-lathe-package': ['.lathe'],
          'application/zip': ['.zip'],
          'application/json': ['.json'],
        },
      },
    ]);
    expect(m.share_target).toEqual({
      action: '/share-target',
      method: 'POST',
      enctype: 'multipart/form-data',
      params: {
        files: [
          { name: 'files', accept: ['.lathe', '.zip', '.json', '.bin', 'application/zip', 'application/octet-stream'] },
        ],
      },
    });
  });

  it('is linked from index.html, with a favicon', () => {
    const html = readFileSync(join(DIST, 'index.html'), 'utf8');
    expect(html).toMatch(/<link rel="manifest" href="\/manifest\.webmanifest"/);
    expect(html).toMatch(/<link rel="icon"[^>]*href="\/icons\/favicon-32\.png"/);
  });
});
