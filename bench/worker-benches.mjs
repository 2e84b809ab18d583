// @ts-check
// Drives bench.html: the environment facts, then each backend's worker bench (throughput of the
// app's loop against bare model.fit, checkpoints, tensor memory) in a fresh worker per backend.

/** @typedef {import('./config.mjs').BenchConfig} BenchConfig */
/** @typedef {import('./config.mjs').BackendName} BackendName */

/** How long bench.html may take to load and expose its API, in ms. */
const PAGE_READY_TIMEOUT_MS = 30_000;
/** Budget for the environment probe (it initialises WASM and asks WebGPU for an adapter), in ms. */
const ENVIRONMENT_TIMEOUT_MS = 60_000;
/** The WASM backend's thread pool size (workers/wasm-threads.ts WASM_MAX_THREADS). */
const WASM_MAX_THREADS = 8;

/**
 * @param {BackendName} backend
 * @param {string} reason
 */
function skipped(backend, reason) {
  return { backend, available: false, reason, initMs: null, cadence: null, models: [], wallMs: null, progressEventsReceived: null };
}

/**
 * WASM with 1 thread and with every core (at most the pool's 8) on one model, each in a fresh
 * worker, back to back, so the ratio compares like with like.
 * @param {import('@playwright/test').Page} page
 * @param {BenchConfig} cfg
 * @param {number} cores navigator.hardwareConcurrency in the worker
 * @param {(line: string) => void} log
 */
async function runThreadsSection(page, cfg, cores, log) {
  const model = cfg.models.find((m) => m.id === cfg.threads.model);
  if (!model) throw new Error(`bench config: no model ${cfg.threads.model} for the threads section`);
  const all = Math.max(1, Math.min(cores, WASM_MAX_THREADS));
  const runs = [];
  for (const threads of [1, all]) {
    log(`wasm with ${threads} thread(s) on ${model.id}…`);
    const request = { model, threads };
    try {
      runs.push(await page.evaluate(([req, ms]) => /** @type {any} */ (window).__latheBench.runThreads(req, ms), /** @type {const} */ ([request, cfg.backendTimeoutMs])));
    } catch (err) {
      const message = err instanceof Error ? err.message.split('\n')[0] : String(err);
      runs.push({ threadsRequested: threads, threadsInUse: null, build: 'none', reason: `bench failed: ${message}`, loop: null });
    }
  }
  const rate = (/** @type {any} */ r) => r?.loop?.steady?.samplesPerSec ?? null;
  const one = rate(runs[0]);
  const many = rate(runs[1]);
  return { model: model.id, hardwareConcurrency: cores, runs, ratio: one && many ? many / one : null };
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
    const threads = await runThreadsSection(page, cfg, environment.hardwareConcurrency, log);
    return { pageCrossOriginIsolated: pageIsolated, environment, backends, threads, pageErrors };
  } finally {
    await context.close();
  }
}
