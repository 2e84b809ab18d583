// Vite builds the page (src/) and the training worker (workers/) as separate chunks; Vitest runs
// unit tests in Node on the tfjs cpu backend with fake-indexeddb.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { VitePWA, type VitePWAOptions } from 'vite-plugin-pwa';
import { imageAssets } from './scripts/image-assets.mjs';

/** Cross-origin isolation lets the WASM backend use threads (SharedArrayBuffer). */
export const isolationHeaders = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

/**
 * Largest file the service worker precaches, in bytes. The training worker chunk is ~2.4 MB, over
 * Workbox's 2 MiB default, which would drop it (the plugin turns that into a build error).
 */
export const PRECACHE_MAX_FILE_BYTES = 6 * 1024 * 1024;

/**
 * The PWA: manifest, and the custom service worker (src/sw/sw.ts) precaching everything an
 * offline training run needs. The bench page and its worker, and source maps, stay out.
 */
function pwaOptions(): Partial<VitePWAOptions> {
  return {
    strategies: 'injectManifest',
    srcDir: 'src/sw',
    filename: 'sw.ts',
    registerType: 'prompt',
    // src/pwa/register.ts registers the worker itself (workbox-window), to control updates.
    injectRegister: false,
    // globPatterns below already pick up every icon in public/icons/.
    includeManifestIcons: false,
    manifest: {
      id: '/',
      name: 'Lathe',
      short_name: 'Lathe',
      description: 'Train neural networks in your browser, on your own GPU, with exact pause and resume.',
      theme_color: '#1f2937',
      background_color: '#1f2937',
      display: 'standalone',
      start_url: '/',
      scope: '/',
      icons: [
        { src: '/icons/icon-192.png', sizes: '192x192', type: 'image/png', purpose: 'any' },
        { src: '/icons/icon-512.png', sizes: '512x512', type: 'image/png', purpose: 'any' },
        { src: '/icons/icon-maskable-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
      ],
      file_handlers: [
        {
          action: '/',
          accept: {
            'application/x-lathe-package': ['.lathe'],
            'application/zip': ['.zip'],
            'application/json': ['.json'],
          },
        },
      ],
      share_target: {
        action: '/share-target',
        method: 'POST',
        enctype: 'multipart/form-data',
        params: {
          files: [
            {
              name: 'files',
              accept: ['.lathe', '.zip', '.json', '.bin', 'application/zip', 'application/octet-stream'],
            },
          ],
        },
      },
    },
    injectManifest: {
      // models/ holds the transfer-learning base (model.json + weights.bin, 2.3 MB) and samples/ the
      // digits (digits.bin): both made at build time from npm packages (scripts/image-assets.mjs).
      globPatterns: ['**/*.{html,js,css,wasm,csv,png,ico,svg}', 'models/**/*.{json,bin}', 'samples/*.bin', 'samples/*.txt'],
      globIgnores: ['**/*.map', 'bench.html', 'assets/bench-*.js', 'assets/bench.worker-*.js', 'sw.js'],
      maximumFileSizeToCacheInBytes: PRECACHE_MAX_FILE_BYTES,
    },
    devOptions: { enabled: false },
  };
}

export default defineConfig({
  plugins: [svelte(), imageAssets(), VitePWA(pwaOptions())],
  build: {
    target: 'es2022',
    sourcemap: true,
    chunkSizeWarningLimit: 4096,
    // Two pages: the app, and the benchmark page `npm run bench` drives (bench/run.mjs).
    rollupOptions: {
      input: {
        main: fileURLToPath(new URL('./index.html', import.meta.url)),
        bench: fileURLToPath(new URL('./bench.html', import.meta.url)),
      },
    },
  },
  worker: {
    format: 'es',
  },
  server: { headers: isolationHeaders },
  preview: { headers: isolationHeaders },
  test: {
    include: ['tests/unit/**/*.test.ts', 'tests/server/**/*.test.ts'],
    environment: 'node',
    setupFiles: ['tests/unit/setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
