// @ts-check
// The images section of `npm run bench` (issue 9): its sizes, the run (bench.html's runDecode and
// runImages, each in a fresh worker), its schema and its summary rows. Self-contained, so run.mjs,
// schema.mjs and summary.mjs each take it in with a line or two.

/** @typedef {import('./config.mjs').BackendName} BackendName */
/** @typedef {import('./config.mjs').BenchConfig} BenchConfig */

/** One decode run, one backend's image run: each bounded, in ms. */
const DECODE_TIMEOUT_MS = 180_000;

export const IMAGES_FULL = {
  /** PNG files of 320 × 240 px in 3 class folders, decoded to 96 px and stored. */
  decode: { images: 300, width: 320, height: 240 },
  /** The CNN preset (32 px, 3 conv blocks) on 320 synthetic 96 px images; batch 32 as the preset. */
  cnn: { id: 'cnn32', samples: 320, classes: 4, batchSize: 32, budgetMs: 10_000, maxMs: 40_000 },
  /** 2 classes × 30 frames; usable at 90% validation accuracy (12 validation images: 11 right). */
  transfer: { classes: 2, perClass: 30, targetAccuracy: 0.9, backends: ['webgpu', 'webgl', 'wasm', 'cpu'] },
  /**
   * Steps of the digits sample per backend (75 steps = 1 epoch of 2,400 images at batch 32). The
   * software GPU and the cpu backend train convolutions at a few images a second, so they get fewer.
   */
  digits: { steps: { webgl: 150, webgpu: 10, cpu: 10 }, maxValImages: null },
  backendTimeoutMs: 600_000,
};

export const IMAGES_QUICK = {
  decode: { images: 16, width: 320, height: 240 },
  cnn: { id: 'cnn32', samples: 40, classes: 2, batchSize: 8, budgetMs: 1_000, maxMs: 3_000 },
  transfer: { classes: 2, perClass: 5, targetAccuracy: 0.9, backends: ['wasm'] },
  digits: { steps: { cpu: 2 }, maxValImages: 64 },
  backendTimeoutMs: 90_000,
};

/**
 * A backend's entry when it did not run: every field of every part present, null, with the reason.
 * @param {BackendName} backend
 * @param {string} reason
 * @param {number | null} wallMs
 */
function notRun(backend, reason, wallMs) {
  /** @param {Record<string, unknown>} spec */
  const part = (spec) => ({ ...Object.fromEntries(Object.keys(spec).map((k) => [k, null])), supported: false, reason });
  const [b] = /** @type {[typeof IMAGES_SCHEMA.backends[0] & {}]} */ (IMAGES_SCHEMA.backends);
  return { backend, available: false, reason, wallMs, cnn: part(b.cnn), transfer: part(b.transfer), digits: part(b.digits) };
}

/**
 * @param {import('@playwright/test').Browser} browser
 * @param {string} baseUrl
 * @param {BenchConfig} cfg the run's config: which backends run and which are skipped, with why
 * @param {(line: string) => void} log
 */
export async function runImageSection(browser, baseUrl, cfg, log) {
  const images = cfg.mode === 'quick' ? IMAGES_QUICK : IMAGES_FULL;
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await page.goto(`${baseUrl}/bench.html`);
    await page.waitForFunction(() => document.body.dataset.ready === 'true', null, { timeout: 30_000 });
    const call = (/** @type {string} */ fn, /** @type {unknown} */ arg, /** @type {number} */ ms) =>
      page.evaluate(([f, a, t]) => /** @type {any} */ (window).__latheBench[/** @type {string} */ (f)](a, t), /** @type {const} */ ([fn, arg, ms]));
    log('images: decode and store…');
    const decode = await call('runDecode', images.decode, DECODE_TIMEOUT_MS);
    const backends = [];
    for (const backend of /** @type {BackendName[]} */ (['webgpu', 'webgl', 'wasm', 'cpu'])) {
      const skip = cfg.skip[backend] ?? (cfg.backends.includes(backend) ? null : 'not requested');
      const started = Date.now();
      if (skip) {
        backends.push(notRun(backend, skip, null));
        continue;
      }
      log(`images on ${backend}…`);
      const request = { backend, cnn: images.cnn, transfer: images.transfer, digits: images.digits };
      try {
        backends.push({ ...(await call('runImages', request, images.backendTimeoutMs)), wallMs: Date.now() - started });
      } catch (err) {
        backends.push(notRun(backend, `bench failed: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`, Date.now() - started));
      }
      log(`images on ${backend}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    }
    return { config: images, decode, backends };
  } finally {
    await context.close();
  }
}

const PART = { supported: 'boolean', reason: 'string?' };

/** bench/schema.mjs's spec for `images` (schema version 3). */
export const IMAGES_SCHEMA = {
  config: 'any',
  decode: {
    images: 'number', width: 'number', height: 'number', pngBytes: 'number', decodeMs: 'number', fingerprintMs: 'number',
    storeMs: 'number', storedBytes: 'number', imagesPerSec: 'number', bitmapOnlyImagesPerSec: 'number',
  },
  backends: [{
    backend: 'string', available: 'boolean', reason: 'string?', wallMs: 'number?',
    cnn: { ...PART, params: 'number?', loop: 'any', fit: 'any', imagesPerSec: 'number?', fitImagesPerSec: 'number?', loopOverFit: 'number?' },
    transfer: { ...PART, images: 'number?', storeMs: 'number?', featuresMs: 'number?', trainMs: 'number?', totalMs: 'number?', epochs: 'number?', valAccuracy: 'number?', reached: 'boolean?' },
    digits: { ...PART, steps: 'number?', epochs: 'number?', trainMs: 'number?', imagesPerSec: 'number?', valAccuracy: 'number?', valImages: 'number?' },
  }],
};

/**
 * Summary rows for the images section; `row` is summary.mjs's row builder.
 * @param {any} result
 * @param {(r: any) => import('./summary.mjs').Row} row
 * @returns {import('./summary.mjs').Row[]}
 */
export function imageRows(result, row) {
  const im = result.images;
  if (!im) return [];
  const rows = [];
  const d = im.decode;
  rows.push(row({ group: 'images', figure: `${d.images} PNGs (${d.width}×${d.height}) decoded and stored`, value: d.imagesPerSec, unit: 'images/s', baseline: d.bitmapOnlyImagesPerSec, baselineLabel: 'bare createImageBitmap', note: `decode+crop+resize ${d.decodeMs.toFixed(0)} ms, fingerprint ${d.fingerprintMs.toFixed(0)} ms, IndexedDB ${d.storeMs.toFixed(0)} ms for ${(d.storedBytes / 1e6).toFixed(1)} MB` }));
  for (const b of im.backends) {
    const c = b.cnn;
    if (c.imagesPerSec !== undefined && c.imagesPerSec !== null) {
      rows.push(row({ group: 'images', figure: `CNN preset ${b.backend}: app loop vs bare fit`, value: c.imagesPerSec, unit: 'images/s', baseline: c.fitImagesPerSec, baselineLabel: 'bare model.fit', ratio: c.loopOverFit, target: '≥ 0.95', met: c.loopOverFit === null ? null : c.loopOverFit >= 0.95, note: `${c.loop?.steady?.steps} steps from step ${c.loop?.steady?.fromStep}${c.loop?.afterFirstEpoch ? '' : ' (time-capped warm-up)'}; ${c.params} params` }));
    } else rows.push(row({ group: 'images', figure: `CNN preset ${b.backend}: not measured`, unit: '', note: c.reason }));
    const t = b.transfer;
    if (t.totalMs !== undefined && t.totalMs !== null) {
      rows.push(row({ group: 'images', figure: `transfer ${b.backend}: last capture → usable model`, value: t.totalMs, unit: 'ms', baseline: t.featuresMs, baselineLabel: 'of which base load + features', ratio: null, note: `${t.images} images; store ${t.storeMs?.toFixed(0)} ms, features ${t.featuresMs?.toFixed(0)} ms, head ${t.trainMs?.toFixed(0)} ms to val acc ${t.valAccuracy?.toFixed(2)} after ${t.epochs} epoch(s)` }));
    } else rows.push(row({ group: 'images', figure: `transfer ${b.backend}: not measured`, unit: '', note: t.reason ?? (t.reached === false ? `not usable: val acc ${t.valAccuracy}` : null) }));
    const g = b.digits;
    if (g.valAccuracy !== undefined && g.valAccuracy !== null) {
      rows.push(row({ group: 'images', figure: `digits ${b.backend}: ${g.steps} steps (${g.epochs?.toFixed(2)} epochs)`, value: g.trainMs, unit: 'ms', baseline: null, note: `val accuracy ${(g.valAccuracy * 100).toFixed(1)}% on ${g.valImages} images; ${g.imagesPerSec?.toFixed(1)} images/s` }));
    } else rows.push(row({ group: 'images', figure: `digits ${b.backend}: not measured`, unit: '', note: g.reason }));
  }
  return rows;
}
