// @ts-check
// The bench's environment: an up-to-date production build, served with cross-origin isolation on
// a free port, and a headless Chromium with WebGPU enabled. Each piece is closed by its owner.
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from '@playwright/test';
import { BUILD_STAMP, PROJECT_ROOT, buildIfStale, viteBuild } from '../scripts/build-if-stale.mjs';
import { loadServer } from '../scripts/load-server.mjs';

const SYSTEM_CHROMIUM = '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-dev-shm-usage',
];

/**
 * Builds dist/ when it is stale. scripts/build-if-stale.mjs does not watch bench.html (only the
 * bench uses it), so a missing or newer bench page also triggers a build.
 * @param {{ log: (line: string) => void }} opts
 */
export async function ensureBuild({ log }) {
  const built = await buildIfStale({ log });
  if (built) return;
  const dist = join(PROJECT_ROOT, 'dist');
  const benchPage = join(dist, 'bench.html');
  const stamp = existsSync(join(dist, BUILD_STAMP)) ? join(dist, BUILD_STAMP) : join(dist, 'index.html');
  if (!existsSync(benchPage) || statSync(join(PROJECT_ROOT, 'bench.html')).mtimeMs > statSync(stamp).mtimeMs) {
    log('Building, because dist/ has no up-to-date bench.html.');
    await viteBuild();
  }
}

/** The bench server's API token (user "bench"); its database is a temporary file. */
export const BENCH_TOKEN = 'bench-token-0123456789abcdef';

/**
 * Serves `root` and the sync API with the app's own server (server/) on 127.0.0.1 (a secure
 * context, so navigator.gpu exists) on a free port, with a temporary database.
 * @param {string} root
 * @returns {Promise<{ url: string, token: string, close: () => Promise<void> }>}
 */
export async function startServer(root) {
  const { createLathe } = await loadServer();
  const dataDir = mkdtempSync(join(tmpdir(), 'lathe-bench-'));
  const lathe = await createLathe({
    dbPath: join(dataDir, 'lathe.db'),
    resultsDir: join(dataDir, 'results'),
    tokens: [{ user: 'bench', token: BENCH_TOKEN }],
    distDir: root,
  });
  const url = await lathe.listen(0, '127.0.0.1');
  return {
    url,
    token: BENCH_TOKEN,
    close: async () => {
      await lathe.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** @returns {Promise<import('@playwright/test').Browser>} */
export function launchBrowser() {
  return chromium.launch({
    ...(existsSync(SYSTEM_CHROMIUM) ? { executablePath: SYSTEM_CHROMIUM } : {}),
    args: CHROMIUM_ARGS,
  });
}
