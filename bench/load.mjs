// @ts-check
// Load cost of the app: the JavaScript the main thread loads at startup, gzipped (the entry script
// and its modulepreloads from dist/index.html; the training worker's chunk reported apart), and
// the time to interactive (the Train button enabled) on a cold and on a warm cache.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { UI_TIMEOUT_MS, newAppContext } from './ui-app.mjs';
import { readProbes } from './ui-probes.mjs';
import { median } from './stats.mjs';

/**
 * @param {string} file
 * @returns {{ bytes: number, gzipBytes: number }}
 */
function sizes(file) {
  const data = readFileSync(file);
  return { bytes: data.length, gzipBytes: gzipSync(data).length };
}

/**
 * Asset URLs that index.html makes the browser load at startup, by kind.
 * @param {string} html
 */
export function startupAssets(html) {
  /** @type {string[]} */
  const js = [];
  /** @type {string[]} */
  const css = [];
  for (const [tag] of html.matchAll(/<(script|link)\b[^>]*>/gi)) {
    const attr = (/** @type {string} */ name) => new RegExp(`\\b${name}\\s*=\\s*"([^"]*)"`, 'i').exec(tag)?.[1] ?? null;
    if (/^<script/i.test(tag) && attr('src')) js.push(/** @type {string} */ (attr('src')));
    const rel = attr('rel');
    const href = attr('href');
    if (href && rel === 'modulepreload') js.push(href);
    if (href && rel === 'stylesheet') css.push(href);
  }
  return { js, css };
}

/** @param {string} distDir */
export function measureBundle(distDir) {
  const html = readFileSync(join(distDir, 'index.html'), 'utf8');
  const { js, css } = startupAssets(html);
  const local = (/** @type {string} */ url) => join(distDir, url.replace(/^\//, ''));
  const files = js.map((url) => ({ url, ...sizes(local(url)) }));
  const cssFiles = css.map((url) => ({ url, ...sizes(local(url)) }));
  const worker = readdirSync(join(distDir, 'assets')).filter((f) => /^trainer\.worker-.*\.js$/.test(f));
  const workerFiles = worker.map((f) => ({ url: `/assets/${f}`, ...sizes(join(distDir, 'assets', f)) }));
  const sum = (/** @type {{ bytes: number, gzipBytes: number }[]} */ list, /** @type {'bytes' | 'gzipBytes'} */ key) =>
    list.reduce((n, f) => n + f[key], 0);
  return {
    mainJs: { bytes: sum(files, 'bytes'), gzipBytes: sum(files, 'gzipBytes'), files },
    css: { bytes: sum(cssFiles, 'bytes'), gzipBytes: sum(cssFiles, 'gzipBytes'), files: cssFiles },
    workerJs: { bytes: sum(workerFiles, 'bytes'), gzipBytes: sum(workerFiles, 'gzipBytes'), files: workerFiles },
  };
}

/**
 * Navigates and returns ms from navigation start until the Train button was first enabled.
 * @param {import('@playwright/test').Page} page
 * @param {string} url
 */
async function timeToInteractive(page, url) {
  await page.goto(url);
  await page.waitForFunction(() => /** @type {any} */ (window).__benchProbes?.interactiveAt != null, null, {
    timeout: UI_TIMEOUT_MS,
    polling: 50,
  });
  return /** @type {number} */ ((await readProbes(page)).interactiveAt);
}

/**
 * @param {import('@playwright/test').Browser} browser
 * @param {string} baseUrl
 * @param {string} distDir
 * @param {number} warmReps
 */
export async function runLoadBench(browser, baseUrl, distDir, warmReps) {
  const bundle = measureBundle(distDir);
  const context = await newAppContext(browser);
  try {
    const page = await context.newPage();
    const coldMs = await timeToInteractive(page, `${baseUrl}/`);
    /** @type {number[]} */
    const warm = [];
    // Later navigations in the same profile find the hashed assets in the HTTP cache (and, once it
    // has installed, in the service worker's precache): what a returning user gets.
    for (let i = 0; i < Math.max(1, warmReps); i++) warm.push(await timeToInteractive(page, `${baseUrl}/`));
    return { bundle, tti: { coldMs, warmMs: median(warm), warmSamplesMs: warm } };
  } finally {
    await context.close();
  }
}
