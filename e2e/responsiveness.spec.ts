// Training runs in the worker, so the page's main thread stays free while a job trains.
import { expect, test, type Browser, type Page } from '@playwright/test';
import { ENDLESS_XOR, jobView, numAttr, openApp, startTraining, waitUntilTraining, WORKER_READY_TIMEOUT_MS } from './helpers';
import { bigCsvFile } from './fixtures/tables';

/** How long to watch the main thread while the job trains, in ms. */
const WATCH_MS = 10_000;

interface LongTask {
  startTime: number;
  duration: number;
}

interface TaskTime {
  wallMs: number;
  cpuMs: number;
}

/**
 * Runs `during` while Chromium traces the page's main-thread tasks, and returns each task's wall
 * and CPU time. CPU (thread) time is what the page's own work costs; wall time also counts the
 * time a busy machine kept the thread waiting for a core.
 */
async function traceMainThread<T>(browser: Browser, page: Page, during: () => Promise<T>): Promise<[T, TaskTime[]]> {
  await browser.startTracing(page, { categories: ['toplevel', '__metadata'] });
  const result = await during();
  interface TraceEvent {
    name: string;
    ph: string;
    pid: number;
    tid: number;
    /** Wall time, in µs. */
    dur?: number;
    /** Thread (CPU) time, in µs. */
    tdur?: number;
    args?: { name?: string };
  }
  const trace = JSON.parse((await browser.stopTracing()).toString()) as { traceEvents: TraceEvent[] };
  const main = new Set(
    trace.traceEvents
      .filter((e) => e.name === 'thread_name' && e.args?.name === 'CrRendererMain')
      .map((e) => `${e.pid}:${e.tid}`),
  );
  const tasks = trace.traceEvents
    .filter((e) => e.ph === 'X' && e.name === 'ThreadControllerImpl::RunTask' && main.has(`${e.pid}:${e.tid}`))
    .map((e) => ({ wallMs: (e.dur ?? 0) / 1000, cpuMs: (e.tdur ?? 0) / 1000 }));
  return [result, tasks];
}

/** A main-thread task may use at most this much CPU while a job trains, in ms (a "long task"). */
const LONG_TASK_MS = 50;

test('the main thread does no task over 50 ms of work during 10 s of training', async ({ page, browser }) => {
  await page.addInitScript(() => {
    const w = window as unknown as { __longTasks: LongTask[]; __longTaskSupported: boolean };
    w.__longTasks = [];
    w.__longTaskSupported = PerformanceObserver.supportedEntryTypes.includes('longtask');
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) w.__longTasks.push({ startTime: e.startTime, duration: e.duration });
    }).observe({ type: 'longtask', buffered: true });
  });
  await openApp(page);
  expect(await page.evaluate(() => (window as unknown as { __longTaskSupported: boolean }).__longTaskSupported)).toBe(
    true,
  );

  // Still training when the watch ends, on any machine.
  await startTraining(page, ENDLESS_XOR);
  await waitUntilTraining(page);
  const view = jobView(page);
  const stepBefore = await numAttr(view, 'data-step');

  // The watch runs in the page: WATCH_MS of wall time, sampling the job state meanwhile.
  const [watch, tasks] = await traceMainThread(browser, page, () =>
    page.evaluate(async (watchMs) => {
      const seen = new Set<string>();
      const startedAt = performance.now();
      const end = startedAt + watchMs;
      while (performance.now() < end) {
        seen.add(document.querySelector('[data-testid=job-view]')?.getAttribute('data-state') ?? 'none');
        await new Promise((r) => setTimeout(r, 250));
      }
      return { startedAt, endedAt: performance.now(), states: [...seen] };
    }, WATCH_MS),
  );
  expect(watch.states, 'the job trained during the whole watch').toEqual(['running']);
  expect(await numAttr(view, 'data-step'), 'steps were taken during the watch').toBeGreaterThan(stepBefore);

  const all = await page.evaluate(() => (window as unknown as { __longTasks: LongTask[] }).__longTasks);
  const before = all.filter((t) => t.startTime < watch.startedAt);
  if (before.length > 0) {
    const worst = Math.max(...before.map((t) => t.duration));
    console.log(
      `(not asserted) ${before.length} long task(s) before the watch (page load, job start), longest ${worst.toFixed(0)} ms`,
    );
  }
  const during = all.filter((t) => t.startTime >= watch.startedAt && t.startTime < watch.endedAt);
  const cpuMs = tasks.reduce((sum, t) => sum + t.cpuMs, 0);
  const maxCpuMs = Math.max(0, ...tasks.map((t) => t.cpuMs));
  const slow = tasks
    .filter((t) => t.wallMs > LONG_TASK_MS)
    .map((t) => `${t.wallMs.toFixed(0)} ms wall / ${t.cpuMs.toFixed(0)} ms CPU`);
  console.log(
    `main thread during the watch: ${tasks.length} tasks, ${cpuMs.toFixed(0)} ms CPU in all, ` +
      `at most ${maxCpuMs.toFixed(0)} ms CPU in one; over ${LONG_TASK_MS} ms wall: ${slow.join(', ') || 'none'}; ` +
      `Long Tasks API entries: ${during.map((t) => Math.round(t.duration)).join(', ') || 'none'}`,
  );
  expect(tasks.length, 'the trace saw the main thread run tasks').toBeGreaterThan(0);
  // Asserted on CPU time: on a loaded machine (npm test must pass there too) a 3 ms task can wait
  // 300 ms for a core, which the Long Tasks API reports as long though the page did no work. A
  // task that really works for over 50 ms has over 50 ms of CPU time, loaded machine or not.
  expect(
    tasks.filter((t) => t.cpuMs > LONG_TASK_MS).map((t) => Math.round(t.cpuMs)),
    `CPU times (ms) of main-thread tasks over ${LONG_TASK_MS} ms while training`,
  ).toEqual([]);
  await view.getByTestId('cancel-button').click();
  await expect(view).toHaveAttribute('data-state', 'cancelled');
});

test('a 20 MB CSV is read in the worker with progress, and the main thread does no task over 50 ms of work meanwhile', async ({ page, browser }) => {
  test.setTimeout(120_000);
  await openApp(page);
  await expect(page.getByTestId('plan-summary')).not.toHaveAttribute('data-rows', '', { timeout: WORKER_READY_TIMEOUT_MS });
  const path = bigCsvFile(20);
  // Every value the progress bar shows, from the page itself.
  await page.evaluate(() => {
    const w = window as unknown as { __progress: number[] };
    w.__progress = [];
    new MutationObserver(() => {
      const bar = document.querySelector<HTMLProgressElement>('[data-testid=table-upload-progress]');
      if (bar) w.__progress.push(bar.value / bar.max);
    }).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['value'] });
  });
  const [, tasks] = await traceMainThread(browser, page, async () => {
    await page.getByTestId('table-file-input').setInputFiles(path);
    await expect(page.getByTestId('dataset-status')).toContainText('Added “big”', { timeout: 90_000 });
  });
  const progress = await page.evaluate(() => (window as unknown as { __progress: number[] }).__progress);
  console.log(`progress seen: ${progress.length} values; main thread: ${tasks.length} tasks, at most ${Math.max(0, ...tasks.map((t) => t.cpuMs)).toFixed(0)} ms CPU in one`);
  expect(progress.some((p) => p > 0 && p < 1), 'the bar showed the file part-read').toBe(true);
  expect(tasks.length).toBeGreaterThan(0);
  expect(
    tasks.filter((t) => t.cpuMs > LONG_TASK_MS).map((t) => Math.round(t.cpuMs)),
    `CPU times (ms) of main-thread tasks over ${LONG_TASK_MS} ms while the file was read`,
  ).toEqual([]);
});
