// @ts-check
// Drives bench.html: the environment facts, then each backend's worker bench (throughput of the
// app's loop against bare model.fit, checkpoints, tensor memory) in a fresh worker per backend.

/** @typedef {import('./config.mjs').BenchConfig} BenchConfig */
/** @typedef {import('./config.mjs').BackendName} BackendName */

/** How long bench.html may take to load and expose its API, in ms. */
const PAGE_READY_TIMEOUT_MS = 30_000;
/** Budget for the environment probe (it initialises WASM and asks WebGPU for an adapter), in ms. */
const ENVIRONMENT_TIMEOUT_MS = 60_000;

/**
 * @param {BackendName} backend
 * @param {string} reason
 */
function skipped(backend, reason) {
  return { backend, available: false, reason, initMs: null, cadence: null, models: [], wallMs: null, progressEventsReceived: null };
}

/**
 * @param {import('@playwright/test').Browser} browser
 * @param {string} baseUrl
 * @param {BenchConfig} cfg
 * @param {(line: string) => void} log
 */
export async function runWorkerBenches(browser, baseUrl, cfg, log) {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    /** @type {string[]} */
    const pageErrors = [];
    page.on('pageerror', (err) => pageErrors.push(err.message));
    await page.goto(`${baseUrl}/bench.html`);
    await page.waitForFunction(() => document.body.dataset.ready === 'true', null, { timeout: PAGE_READY_TIMEOUT_MS });
    const pageIsolated = await page.evaluate(() => self.crossOriginIsolated);
    log('environment…');
    const environment = await page.evaluate(
      (ms) => /** @type {any} */ (window).__latheBench.environment(ms),
      ENVIRONMENT_TIMEOUT_MS,
    );
    const backends = [];
    for (const backend of /** @type {BackendName[]} */ (['webgpu', 'webgl', 'wasm', 'cpu'])) {
      const skip = cfg.skip[backend];
      if (skip || !cfg.backends.includes(backend)) {
        backends.push(skipped(backend, skip ?? 'not requested'));
        continue;
      }
      log(`backend ${backend}…`);
      const started = Date.now();
      try {
        const request = { backend, models: cfg.models, checkpointReps: cfg.checkpointReps, memoryEpochs: cfg.memoryEpochs };
        const result = await page.evaluate(
          ([req, ms]) => /** @type {any} */ (window).__latheBench.runBackend(req, ms),
          /** @type {const} */ ([request, cfg.backendTimeoutMs]),
        );
        const progressEventsReceived = await page.evaluate(() => /** @type {any} */ (window).__latheBench.progressEventsReceived);
        backends.push({ ...result, progressEventsReceived, wallMs: Date.now() - started });
        log(`backend ${backend}: ${result.available ? (result.reason ?? 'done') : `unavailable (${result.reason})`} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      } catch (err) {
        // A timeout or a dead worker: the backend counts as unavailable, and the run goes on.
        const message = err instanceof Error ? err.message.split('\n')[0] : String(err);
        backends.push({ ...skipped(backend, `bench failed: ${message}`), wallMs: Date.now() - started });
        log(`backend ${backend}: failed (${message})`);
      }
    }
    return { pageCrossOriginIsolated: pageIsolated, environment, backends, pageErrors };
  } finally {
    await context.close();
  }
}
