// @ts-check
// CSV import (issue 8): a generated table on disk is read in the same browser run
//   1. by papaparse streaming the File by itself in a worker (the bare parser, the baseline) and
//      by the app's reader (readTable: File stream → papaparse core → typed columns) in the same
//      kind of worker, alternating, in bench.html: the throughput ratio;
//   2. through the real app: the setup's file input (Playwright setInputFiles, a disk-backed File)
//      → the trainer worker → stored dataset shown: the longest main-thread task meanwhile, and the
//      trainer worker's peak memory (CDP, bench/worker-memory.mjs) as a multiple of the file size.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeCsv } from './csv-data.mjs';
import { UI_TIMEOUT_MS, newAppContext, openApp } from './ui-app.mjs';
import { readProbes } from './ui-probes.mjs';
import { max, median } from './stats.mjs';
import { attachWorkerMemory } from './worker-memory.mjs';

/** @typedef {import('./config.mjs').BenchConfig} BenchConfig */

const MB = 1e6;
/** A generous bound on one import of the full-size file on a busy machine, in ms. */
const IMPORT_TIMEOUT_MS = 300_000;
/** How often the worker's memory is read during the import, at most (each read is a CDP round trip). */
const MEMORY_INTERVAL_MS = 20;

/**
 * Bare papaparse and the app's reader, `runs` passes each in fresh workers, alternating who goes first.
 * @param {import('@playwright/test').Browser} browser
 * @param {string} baseUrl
 * @param {string} path
 * @param {number} runs
 */
async function parseInWorkers(browser, baseUrl, path, runs) {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await page.goto(`${baseUrl}/bench.html`);
    await page.waitForFunction(() => document.body.dataset.ready === 'true', null, { timeout: UI_TIMEOUT_MS });
    await page.getByTestId('bench-file').setInputFiles(path);
    /** @type {Record<'papaparse' | 'app', { ms: number, rows: number, bytes: number }[]>} */
    const passes = { papaparse: [], app: [] };
    for (let run = 0; run < runs; run++) {
      /** @type {('papaparse' | 'app')[]} */
      const order = run % 2 === 0 ? ['papaparse', 'app'] : ['app', 'papaparse'];
      for (const parser of order) {
        const r = await page.evaluate(
          ([p, timeout]) => /** @type {any} */ (window).__latheBench.csvParse({ parser: p }, timeout),
          /** @type {const} */ ([parser, IMPORT_TIMEOUT_MS]),
        );
        passes[parser].push(r);
      }
    }
    const mbps = (/** @type {{ ms: number, bytes: number }[]} */ xs) => xs.map((x) => x.bytes / MB / (x.ms / 1000));
    const bare = { runsMBps: mbps(passes.papaparse), MBps: median(mbps(passes.papaparse)), rows: passes.papaparse[0]?.rows ?? 0 };
    const app = { runsMBps: mbps(passes.app), MBps: median(mbps(passes.app)), rows: passes.app[0]?.rows ?? 0 };
    return { bare, app, ratio: bare.MBps && app.MBps ? app.MBps / bare.MBps : null };
  } finally {
    await context.close();
  }
}

/**
 * Page-side times (performance.now()) of the import: the input's change event, the progress bar's
 * first and full values, and the status saying the dataset was added.
 */
function watchImport() {
  /** @type {any} */
  const w = window;
  const t = { change: /** @type {number | null} */ (null), firstProgress: /** @type {number | null} */ (null), read: /** @type {number | null} */ (null), added: /** @type {number | null} */ (null), error: /** @type {string | null} */ (null) };
  w.__csvImport = t;
  document.addEventListener('change', (e) => {
    if (e.target instanceof Element && e.target.getAttribute('data-testid') === 'table-file-input') t.change ??= performance.now();
  }, true);
  new MutationObserver(() => {
    const bar = document.querySelector('[data-testid=table-upload-progress]');
    if (bar instanceof HTMLProgressElement && bar.value > 0) {
      t.firstProgress ??= performance.now();
      if (bar.value >= bar.max && bar.max > 1) t.read ??= performance.now();
    }
    if (t.change !== null && /Added/.test(document.querySelector('[data-testid=dataset-status]')?.textContent ?? '')) t.added ??= performance.now();
    t.error ??= document.querySelector('[data-testid=dataset-error]')?.textContent ?? null;
  }).observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true, attributeFilter: ['value', 'max'] });
}

/**
 * The real app imports the file while the worker's memory is sampled.
 * @param {import('@playwright/test').Browser} browser
 * @param {string} baseUrl
 * @param {string} path
 * @param {number} bytes
 */
async function importInApp(browser, baseUrl, path, bytes) {
  const context = await newAppContext(browser);
  try {
    const page = await context.newPage();
    await openApp(page, baseUrl, 'cpu');
    // The worker has answered (the sample's plan is checked), so it is up and idle.
    await page.waitForFunction(() => (document.querySelector('[data-testid=plan-summary]')?.getAttribute('data-rows') ?? '') !== '', null, { timeout: UI_TIMEOUT_MS });
    const memory = await attachWorkerMemory(context, page, /trainer/);
    const baselineBytes = await memory.collectGarbage();
    await page.evaluate(watchImport);
    let peak = { heapBytes: 0, backingBytes: 0, totalBytes: 0 };
    let samples = 0;
    let done = false;
    const sampler = (async () => {
      while (!done) {
        const next = Date.now() + MEMORY_INTERVAL_MS;
        const m = await memory.read();
        samples++;
        if (m.totalBytes > peak.totalBytes) peak = m;
        await new Promise((r) => setTimeout(r, Math.max(0, next - Date.now())));
      }
    })();
    try {
      await page.getByTestId('table-file-input').setInputFiles(path);
      const handle = await page.waitForFunction(() => {
        const t = /** @type {any} */ (window).__csvImport;
        return t.added !== null || t.error !== null ? { added: t.added, error: t.error } : null;
      }, null, { timeout: IMPORT_TIMEOUT_MS, polling: 100 });
      const outcome = await handle.jsonValue();
      if (outcome?.error) throw new Error(`The app refused the generated CSV: ${outcome.error}`);
    } finally {
      done = true;
      await sampler;
    }
    const after = await memory.read();
    if (after.totalBytes > peak.totalBytes) peak = after;
    await memory.close();
    const t = await page.evaluate(() => /** @type {any} */ (window).__csvImport);
    const probes = await readProbes(page);
    const tasks = probes.longTasks.filter((x) => x.start >= t.change && x.start < t.added);
    const readMs = t.read === null ? null : t.read - t.change;
    const importMs = t.added - t.change;
    return {
      ui: {
        /** Input change → progress bar full (every byte read and parsed). */
        readMs,
        readMBps: readMs === null ? null : bytes / MB / (readMs / 1000),
        /** Input change → "Added" shown (typed columns built, fingerprinted, stored, column table shown). */
        importMs,
        importMBps: bytes / MB / (importMs / 1000),
        longTaskSupported: probes.longTaskSupported,
        longTasks: tasks.length,
        longestTaskMs: max(tasks.map((x) => x.duration)) ?? 0,
        longTaskList: tasks.map((x) => ({ atMs: Math.round(x.start - t.change), ms: x.duration })),
      },
      workerMemory: {
        method: 'CDP Runtime.getHeapUsage on the trainer worker (usedSize + backingStorageSize), sampled during the import, minus the reading after a forced GC before it',
        workerUrl: memory.url,
        samples,
        baselineBytes,
        peakBytes: peak.totalBytes - baselineBytes,
        peakHeapBytes: peak.heapBytes,
        peakBackingBytes: peak.backingBytes,
        peakOverFile: (peak.totalBytes - baselineBytes) / bytes,
      },
    };
  } finally {
    await context.close();
  }
}

/**
 * @param {import('@playwright/test').Browser} browser
 * @param {string} baseUrl
 * @param {BenchConfig} cfg
 * @param {(line: string) => void} log
 */
export async function runCsvImportBench(browser, baseUrl, cfg, log) {
  const dir = mkdtempSync(join(tmpdir(), 'lathe-bench-csv-'));
  try {
    const path = join(dir, 'bench-table.csv');
    const bytes = writeCsv(path, cfg.csvImport.megabytes * MB);
    log(`CSV import: ${(bytes / MB).toFixed(1)} MB, bare parser vs app reader in workers…`);
    const parse = await parseInWorkers(browser, baseUrl, path, cfg.csvImport.runs);
    log('CSV import: through the app…');
    const app = await importInApp(browser, baseUrl, path, bytes);
    return {
      file: { bytes, rows: parse.app.rows },
      parse,
      ui: { ...app.ui, ratioToBare: parse.bare.MBps ? app.ui.importMBps / parse.bare.MBps : null },
      workerMemory: app.workerMemory,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
