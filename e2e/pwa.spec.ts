// The installed-app side of Lathe: after one visit it reloads and trains with the network off,
// stays cross-origin isolated offline, passes Chromium's installability checks, and its service
// worker receives files shared to it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, expect, test, type Page } from '@playwright/test';
import { openApp, startTraining, waitForState } from './helpers';

/** Installing downloads the whole precache (~3.7 MB) from localhost; in ms. */
const SW_READY_TIMEOUT_MS = 30_000;

/** Waits until the service worker is active (its precache complete) and controls the page. */
async function waitForServiceWorker(page: Page): Promise<void> {
  // A precache download that fails (e.g. dist/ rebuilt under the running server) fails the install,
  // and `ready` would then never resolve: bound the wait and say why.
  const activated = await page.evaluate(
    (ms) =>
      Promise.race([
        navigator.serviceWorker.ready.then(() => true),
        new Promise<boolean>((resolve) => setTimeout(() => resolve(false), ms)),
      ]),
    SW_READY_TIMEOUT_MS,
  );
  expect(activated, 'the service worker installs (precaches every file) and activates').toBe(true);
  const controlled = await page.evaluate(() => navigator.serviceWorker.controller !== null);
  if (!controlled) {
    await page.reload();
    await expect(page.getByTestId('dataset-select')).toBeVisible();
  }
  await expect.poll(() => page.evaluate(() => navigator.serviceWorker.controller?.state ?? null)).toBe('activated');
}

test('after one visit, Lathe reloads with the network off, stays cross-origin isolated and trains a whole job', async ({
  page,
  context,
}) => {
  test.setTimeout(180_000);
  await openApp(page, { backend: 'wasm' });
  await waitForServiceWorker(page);

  await context.setOffline(true);
  const started = Date.now();
  await page.reload();
  await expect(page.getByTestId('dataset-select')).toBeVisible();
  await expect(page.getByTestId('train-button')).toBeEnabled();
  console.log(`offline reload to interactive: ${Date.now() - started} ms`);

  // Really offline: a file the service worker does not precache cannot be fetched.
  const uncached = await page.evaluate(() =>
    fetch('/samples/README.md').then(
      (r) => `HTTP ${r.status}`,
      () => 'network error',
    ),
  );
  expect(uncached).toBe('network error');
  expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);

  // Every core, asked for explicitly (automatic gives a net as small as XOR's one thread): the
  // threaded WASM build starts offline, its pthread workers need nothing from the network.
  const threads = await page.evaluate(() => Math.min(navigator.hardwareConcurrency, 8));
  await page.getByTestId('setting-wasm-threads').selectOption(String(threads));
  await startTraining(page, { dataset: 'sample:xor', epochs: 30 });
  await waitForState(page, 'completed', 120_000);
  await expect(page.getByTestId('backend-name')).toHaveText('wasm');
  await expect(page.getByTestId('backend-threads')).toHaveAttribute('data-threads', String(threads));
});

test('Chromium reports no installability errors', async ({ baseURL }, testInfo) => {
  // Chromium never offers to install from an off-the-record profile (error "in-incognito"), which
  // is what Playwright's default contexts are: this test uses a real, throwaway profile.
  const profile = mkdtempSync(join(tmpdir(), 'lathe-install-'));
  const context = await chromium.launchPersistentContext(profile, {
    ...testInfo.project.use.launchOptions,
    ...(baseURL ? { baseURL } : {}),
  });
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    await openApp(page);
    await waitForServiceWorker(page);
    const cdp = await context.newCDPSession(page);
    let errors: unknown[] = [];
    await expect
      .poll(
        async () => {
          const result = (await cdp.send('Page.getInstallabilityErrors')) as { installabilityErrors: unknown[] };
          errors = result.installabilityErrors;
          return JSON.stringify(errors);
        },
        { message: 'installability errors', timeout: 30_000, intervals: [500, 1000] },
      )
      .toBe('[]');
    const manifest = (await cdp.send('Page.getAppManifest')) as { url: string; errors: unknown[] };
    expect(manifest.url).toMatch(/\/manifest\.webmanifest$/);
    expect(manifest.errors).toEqual([]);
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
});

test('files shared to the app are kept for the page in Cache Storage, then the app opens with ?shared=1', async ({
  page,
}) => {
  await openApp(page);
  await waitForServiceWorker(page);
  const result = await page.evaluate(async () => {
    const form = new FormData();
    form.append('files', new File(['{"a":1}'], 'model é.json', { type: 'application/json' }));
    form.append('files', new File([new Uint8Array([1, 2, 3, 4])], 'weights.bin', { type: '' }));
    const response = await fetch('/share-target', { method: 'POST', body: form, redirect: 'manual' });
    const cache = await caches.open('lathe-shared-files');
    const keys = await cache.keys();
    const files = await Promise.all(
      keys.map(async (request) => {
        const r = (await cache.match(request))!;
        return {
          path: new URL(request.url).pathname,
          name: decodeURIComponent(r.headers.get('X-File-Name') ?? ''),
          type: r.headers.get('Content-Type'),
          bytes: (await r.arrayBuffer()).byteLength,
        };
      }),
    );
    await Promise.all(keys.map((k) => cache.delete(k)));
    return { type: response.type, files };
  });
  // A 303 the page's fetch did not follow (redirect: 'manual'); a navigation follows it to /?shared=1.
  expect(result.type).toBe('opaqueredirect');
  const files = result.files.sort((a, b) => a.path.localeCompare(b.path));
  expect(files).toHaveLength(2);
  expect(files[0]).toMatchObject({ name: 'model é.json', type: 'application/json', bytes: 7 });
  expect(files[1]).toMatchObject({ name: 'weights.bin', type: 'application/octet-stream', bytes: 4 });
  for (const f of files) expect(f.path).toMatch(/^\/shared-files\/\d+-[01]$/);
});

test('with notifications turned on, a job that finishes while the tab is hidden shows a notification', async ({
  page,
  context,
}) => {
  await context.grantPermissions(['notifications']);
  // Headless tabs are never hidden: let the test decide what document.visibilityState says.
  await page.addInitScript(() => {
    Object.defineProperty(Document.prototype, 'visibilityState', {
      configurable: true,
      get: () => ((window as { latheTestHidden?: boolean }).latheTestHidden ? 'hidden' : 'visible'),
    });
  });
  await openApp(page, { backend: 'wasm' });
  await waitForServiceWorker(page);
  const toggle = page.getByTestId('notify-toggle');
  await toggle.check();
  await expect(toggle).toBeChecked();

  await page.evaluate(() => {
    (window as { latheTestHidden?: boolean }).latheTestHidden = true;
  });
  await startTraining(page, { dataset: 'sample:xor', epochs: 30 });
  await waitForState(page, 'completed', 120_000);
  await expect
    .poll(() =>
      page.evaluate(async () => {
        const registration = await navigator.serviceWorker.ready;
        return (await registration.getNotifications()).map((n) => n.title);
      }),
    )
    .toEqual([expect.stringMatching(/finished$/)]);
});
