// @ts-check
// The page's main thread while a job trains in the worker, against the same page idle: long tasks
// (> 50 ms), the longest task, and input-to-paint for clicks on the job list; plus the JS heap
// (after a forced GC) when training starts and when the watch ends.
import { START_TIMEOUT_MS, newAppContext, openApp, startXorJob, viewNumber, waitForView } from './ui-app.mjs';
import { pageNow, readProbes } from './ui-probes.mjs';
import { max, percentile } from './stats.mjs';

const BACKEND = 'wasm';
/** Event Timing reports only entries of at least this duration (its minimum threshold), in ms. */
const EVENT_TIMING_THRESHOLD_MS = 16;

/** @typedef {import('./config.mjs').BenchConfig} BenchConfig */

/**
 * Clicks the job rows in turn (each click selects a job and re-renders the job view) for `ms`.
 * @param {import('@playwright/test').Page} page
 * @param {number} ms
 * @param {number} intervalMs
 */
async function clickJobListFor(page, ms, intervalMs) {
  const rows = page.locator('[data-testid=job-row] button');
  const count = await rows.count();
  const end = Date.now() + ms;
  for (let i = 0; Date.now() < end; i++) {
    const next = Date.now() + intervalMs;
    await rows.nth(i % count).click();
    await page.waitForTimeout(Math.max(0, next - Date.now()));
  }
}

/**
 * What happened on the main thread between two page times.
 * @param {Awaited<ReturnType<typeof readProbes>>} p
 * @param {number} from
 * @param {number} to
 */
function windowStats(p, from, to) {
  const tasks = p.longTasks.filter((t) => t.start >= from && t.start < to);
  const clicks = p.clicks.filter((c) => c.testid === 'job-row' && c.t >= from && c.t < to);
  const paint = clicks.map((c) => c.paintMs ?? Number.NaN);
  const entries = clicks.map((c) => p.events.find((e) => e.name === 'click' && Math.abs(e.start - c.t) < 1));
  // A click without an Event Timing entry took under the threshold; count it at the threshold.
  const eventTiming = entries.map((e) => (e ? e.duration : EVENT_TIMING_THRESHOLD_MS));
  return {
    ms: to - from,
    longTasks: tasks.length,
    longestTaskMs: max(tasks.map((t) => t.duration)) ?? 0,
    /** Each long task: when it started (ms into the window) and how long it took. */
    longTaskList: tasks.map((t) => ({ atMs: Math.round(t.start - from), ms: t.duration })),
    clicks: clicks.length,
    inputToPaint: {
      /** Click event → just after the next frame (rAF, then a posted task). */
      p50Ms: percentile(paint, 50),
      p95Ms: percentile(paint, 95),
      maxMs: max(paint),
    },
    eventTiming: {
      /** Event Timing `duration` of each click (entries under 16 ms are not reported, counted as 16). */
      p95Ms: percentile(eventTiming, 95),
      maxMs: max(eventTiming),
      reported: entries.filter(Boolean).length,
    },
  };
}

/**
 * @param {import('@playwright/test').CDPSession} cdp
 * @returns {Promise<number>} used JS heap after a full GC, in bytes
 */
async function heapAfterGc(cdp) {
  await cdp.send('HeapProfiler.collectGarbage');
  const { usedSize } = await cdp.send('Runtime.getHeapUsage');
  return usedSize;
}

/**
 * @param {import('@playwright/test').Browser} browser
 * @param {string} baseUrl
 * @param {BenchConfig} cfg
 * @param {(line: string) => void} log
 */
export async function runMainThreadBench(browser, baseUrl, cfg, log) {
  const context = await newAppContext(browser);
  try {
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await openApp(page, baseUrl, BACKEND);
    // A finished job, so the list has two rows to click between.
    await startXorJob(page, 2);
    await waitForView(page, 'completed', { timeout: START_TIMEOUT_MS });
    log('main thread: idle…');
    const idleFrom = await pageNow(page);
    await clickJobListFor(page, cfg.idleWatchMs, cfg.clickIntervalMs);
    const idleTo = await pageNow(page);
    const jobId = await startXorJob(page, cfg.longJobEpochs);
    await waitForView(page, 'running', { minStep: 1, timeout: START_TIMEOUT_MS });
    log(`main thread: ${cfg.trainingWatchMs / 1000} s of training…`);
    const heapStart = await heapAfterGc(cdp);
    const stepBefore = await viewNumber(page, 'data-step');
    const from = await pageNow(page);
    await clickJobListFor(page, cfg.trainingWatchMs, cfg.clickIntervalMs);
    const to = await pageNow(page);
    const heapEnd = await heapAfterGc(cdp);
    const p = await readProbes(page);
    // The job kept training the whole time (its row still says running) and took steps.
    const running = await page.locator('[data-testid=job-row][data-state=running]').count();
    const steps = p.views.filter((v) => v.id === jobId && v.t >= from && v.t < to).map((v) => v.step);
    return {
      backend: BACKEND,
      longTaskSupported: p.longTaskSupported,
      eventTimingSupported: p.eventTimingSupported,
      idle: windowStats(p, idleFrom, idleTo),
      training: {
        ...windowStats(p, from, to),
        stillRunning: running > 0,
        stepsDuringWatch: steps.length > 0 ? Math.max(...steps) - stepBefore : 0,
      },
      heap: { startBytes: heapStart, endBytes: heapEnd },
    };
  } finally {
    await context.close();
  }
}
