// @ts-check
// `npm run bench` (and `bench:quick`): builds dist/ if stale, serves it with cross-origin isolation,
// drives bench.html (worker benches per backend) and the real app UI in headless Chromium, then
// writes bench/results/<date>.json (shape: schema.mjs) and prints the summary table.
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PROJECT_ROOT } from '../scripts/build-if-stale.mjs';
import { runBackendChoice } from './backend-choice.mjs';
import { ensureBuild, launchBrowser, startServer } from './browser.mjs';
import { FULL, QUICK } from './config.mjs';
import { runImageSection } from './image-section.mjs';
import { runLoadBench } from './load.mjs';
import { SCHEMA_VERSION, TEXT_ONLY_SCHEMA, validateResult } from './schema.mjs';
import { formatTable, summarize, summarizeText } from './summary.mjs';
import { runScaleBench, scaleBenchDatabaseUrl, writeScaleResult } from './scale-bench.mjs';
import { runTextSection } from './text-section.mjs';
import { runCsvImportBench } from './ui-csv-import.mjs';
import { runLatencyBenches } from './ui-latency.mjs';
import { runMainThreadBench } from './ui-main-thread.mjs';
import { runSyncDelayBench } from './ui-sync-delay.mjs';
import { runWorkerBenches } from './worker-benches.mjs';

export const RESULTS_DIR = join(PROJECT_ROOT, 'bench', 'results');

/**
 * @typedef {object} BenchOptions
 * @property {boolean} [quick] tiny sizes, about a minute
 * @property {string} [outDir] where the JSON goes (default bench/results)
 * @property {string} [distDir] serve this build instead of building dist/
 * @property {'text'} [only] run this section alone (and the environment facts), into its own file
 * @property {(line: string) => void} [log]
 */

/** Sections `--only` can run alone. */
const ALONE = ['text'];

/**
 * The machine a run measured on: this process's view plus what bench.html's worker reported.
 * @param {import('@playwright/test').Browser} b
 * @param {any} env the worker's environment (workers/bench/types.ts WorkerEnvironment)
 * @param {boolean} pageIsolated
 * @param {number[]} loadAtStart
 */
function machineFacts(b, env, pageIsolated, loadAtStart) {
  const cpus = os.cpus();
  return {
    cores: cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    totalMemBytes: os.totalmem(),
    /** 1, 5 and 15 minute load averages: above the core count, other work competed with the bench. */
    loadAverage: { start: loadAtStart, end: os.loadavg() },
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    nodeVersion: process.version,
    chromiumVersion: b.version(),
    userAgent: env.userAgent,
    hardwareConcurrency: env.hardwareConcurrency,
    pageCrossOriginIsolated: pageIsolated,
    workerCrossOriginIsolated: env.crossOriginIsolated,
    webgpuAdapter: env.webgpuAdapter,
    webglRenderer: env.webglRenderer,
    wasm: env.wasm,
  };
}

/**
 * The environment facts alone (what runWorkerBenches reads first), for a run of one section.
 * @param {import('@playwright/test').Browser} b
 * @param {string} url
 */
async function environmentOnly(b, url) {
  const context = await b.newContext();
  try {
    const page = await context.newPage();
    await page.goto(`${url}/bench.html`);
    await page.waitForFunction(() => document.body.dataset.ready === 'true', null, { timeout: 30_000 });
    const pageIsolated = await page.evaluate(() => self.crossOriginIsolated);
    const env = await page.evaluate((ms) => /** @type {any} */ (window).__latheBench.environment(ms), 60_000);
    return { env, pageIsolated };
  } finally {
    await context.close();
  }
}

/**
 * Runs one section; a failure is recorded and the bench goes on with the next one.
 * @template T
 * @param {string} section
 * @param {{ section: string, message: string }[]} errors
 * @param {() => Promise<T>} fn
 * @returns {Promise<T | null>}
 */
async function attempt(section, errors, fn) {
  try {
    return await fn();
  } catch (err) {
    errors.push({ section, message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
    return null;
  }
}

/**
 * Runs the whole bench and writes its JSON. Returns the result, its file, and schema problems
 * (empty when every field was produced).
 * @param {BenchOptions} [options]
 */
export async function runBench({ quick = false, outDir = RESULTS_DIR, distDir, only, log = console.log } = {}) {
  const cfg = quick ? QUICK : FULL;
  const loadAtStart = os.loadavg();
  const started = new Date();
  const t0 = Date.now();
  const stamp = (/** @type {string} */ line) => log(`[bench ${((Date.now() - t0) / 1000).toFixed(1)} s] ${line}`);
  if (!distDir) await ensureBuild({ log: stamp });
  const root = distDir ?? join(PROJECT_ROOT, 'dist');
  /** @type {{ section: string, message: string }[]} */
  const errors = [];
  const server = await startServer(root);
  let browser;
  try {
    browser = await launchBrowser();
    const b = browser;
    stamp(`serving ${root} at ${server.url}; Chromium ${b.version()}; ${cfg.mode} run${only ? ` of the ${only} section alone` : ''}`);
    if (only === 'text') {
      const { env, pageIsolated } = await environmentOnly(b, server.url);
      const text = await attempt('text', errors, () => runTextSection(b, server.url, cfg, stamp));
      const result = {
        schemaVersion: SCHEMA_VERSION, mode: cfg.mode, only, startedAt: started.toISOString(), durationMs: 0,
        machine: machineFacts(b, env, pageIsolated, loadAtStart), text, summary: /** @type {import('./summary.mjs').Row[]} */ ([]), errors,
      };
      result.summary = summarizeText(result);
      result.durationMs = Date.now() - t0;
      mkdirSync(outDir, { recursive: true });
      const file = join(outDir, `text-${started.toISOString().replace(/:/g, '-')}${quick ? '-quick' : ''}.json`);
      writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
      return { result, file, problems: validateResult(JSON.parse(JSON.stringify(result)), TEXT_ONLY_SCHEMA) };
    }
    const workers = await runWorkerBenches(b, server.url, cfg, stamp);
    stamp('load…');
    const load = await attempt('load', errors, () => runLoadBench(b, server.url, root, quick ? 1 : 3));
    const latency = await attempt('latency', errors, () => runLatencyBenches(b, server.url, cfg, stamp));
    const mainThread = await attempt('mainThread', errors, () => runMainThreadBench(b, server.url, cfg, stamp));
    stamp('backend choice…');
    const backendChoice = await attempt('backendChoice', errors, () => runBackendChoice(b, server.url, cfg.choiceJobs, !quick));
    const csvImport = await attempt('csvImport', errors, () => runCsvImportBench(b, server.url, cfg, stamp));
    const syncAToB = await attempt('syncAToB', errors, () => runSyncDelayBench(b, server.url, server.token, cfg, stamp));
    const images = await attempt('images', errors, () => runImageSection(b, server.url, cfg, stamp));
    const text = await attempt('text', errors, () => runTextSection(b, server.url, cfg, stamp));
    const result = {
      schemaVersion: SCHEMA_VERSION,
      mode: cfg.mode,
      startedAt: started.toISOString(),
      durationMs: 0,
      machine: machineFacts(b, workers.environment, workers.pageCrossOriginIsolated, loadAtStart),
      config: cfg,
      backends: workers.backends,
      wasmThreads: workers.threads,
      ui: { latency, mainThread, load, backendChoice, csvImport, syncAToB },
      images,
      text,
      summary: /** @type {import('./summary.mjs').Row[]} */ ([]),
      errors: [...errors, ...workers.pageErrors.map((message) => ({ section: 'bench.html', message }))],
    };
    result.summary = summarize(result);
    result.durationMs = Date.now() - t0;
    mkdirSync(outDir, { recursive: true });
    const file = join(outDir, `${started.toISOString().replace(/:/g, '-')}${quick ? '-quick' : ''}.json`);
    writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
    return { result, file, problems: validateResult(JSON.parse(JSON.stringify(result))) };
  } finally {
    await browser?.close();
    await server.close();
  }
}

/** @param {string[]} argv */
function parseArgs(argv) {
  /** @type {BenchOptions} */
  const opts = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--quick') opts.quick = true;
    else if (arg === '--out') opts.outDir = resolve(argv[++i] ?? '');
    else if (arg === '--dist') opts.distDir = resolve(argv[++i] ?? '');
    else if (arg === '--only') {
      const section = argv[++i] ?? '';
      if (!ALONE.includes(section)) throw new Error(`--only takes one of ${ALONE.join(', ')}, not “${section}”.`);
      opts.only = /** @type {'text'} */ (section);
    } else throw new Error(`Unknown option ${arg}. Usage: node bench/run.mjs [--quick] [--only text] [--out DIR] [--dist DIR]`);
  }
  return opts;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const { result, file, problems } = await runBench(parseArgs(process.argv.slice(2)));
    console.log(`\n${formatTable(result.summary)}\n`);
    for (const e of result.errors) console.error(`error in ${e.section}: ${e.message}`);
    for (const p of problems) console.error(`schema: ${p}`);
    const load = result.machine.loadAverage;
    if (Math.max(load.start[0] ?? 0, load.end[0] ?? 0) > result.machine.cores) {
      console.warn(`Warning: the load average (${load.start[0]?.toFixed(1)} → ${load.end[0]?.toFixed(1)}) exceeded the ${result.machine.cores} cores: other work competed with the bench, so its figures are noisy.`);
    }
    console.log(`Wrote ${file} (${(result.durationMs / 1000).toFixed(0)} s).`);
    process.exitCode = result.errors.length > 0 || problems.length > 0 ? 1 : 0;
    // The scale-out figures need PostgreSQL and no browser: a full run adds them when a database
    // is configured, in their own file (the same as `npm run bench:scale`).
    const opts = parseArgs(process.argv.slice(2));
    if (!opts.quick && !opts.only) {
      if (scaleBenchDatabaseUrl()) console.log(`Wrote ${writeScaleResult(await runScaleBench(), opts.outDir)}.`);
      else console.warn('Scale section skipped: set LATHE_BENCH_DATABASE_URL (or LATHE_TEST_DATABASE_URL) to a PostgreSQL database; scripts/pg-setup.sh prints one.');
    }
  } catch (err) {
    console.error(err);
    process.exitCode = 1;
  }
}
