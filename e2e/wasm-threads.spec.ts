// Threaded WASM in a real browser (threads need SharedArrayBuffer and Web Workers, which Node's
// wasm backend path does not give tfjs): the trainer runs one thread per core (one for tiny
// models) and says so, a lower setting applies to the next job, and a run interrupted and resumed
// on threaded WASM ends where an uninterrupted one does (within 1e-5 relative). No timing
// thresholds here.
import { expect, test, type Page } from '@playwright/test';
import { listedJobIds, openApp, startTraining, waitForState } from './helpers';

/** The WASM backend's thread pool holds at most 8 threads (workers/wasm-threads.ts). */
const WASM_MAX_THREADS = 8;
/** A job's backend setup (first WASM initialisation, with its pthread workers); in ms. */
const JOB_DONE_TIMEOUT_MS = 60_000;

async function cores(page: Page): Promise<number> {
  return page.evaluate(() => navigator.hardwareConcurrency);
}

/** Trains the Iris sample with two hidden layers of 256 units: about 67k parameters, a "medium" model. */
async function trainMediumModel(page: Page): Promise<void> {
  // Choosing the sample fills in its config, so the units are changed after that, and Train is
  // pressed here rather than through startTraining (which chooses the sample again).
  await page.getByTestId('dataset-select').selectOption('sample:iris');
  for (const [id, value] of [['layer-units-0', '256'], ['layer-units-1', '256'], ['epochs', '2']] as const) {
    const input = page.getByTestId(id);
    await input.fill(value);
    await input.blur();
    await expect(input).toHaveValue(value);
  }
  await expect(page.getByTestId('config-errors')).toHaveCount(0);
  const before = await listedJobIds(page);
  await page.getByTestId('train-button').click();
  await expect.poll(async () => (await listedJobIds(page)).length, { message: 'the job is listed' }).toBe(before.length + 1);
  await waitForState(page, 'completed', JOB_DONE_TIMEOUT_MS);
}

test('on WASM the header shows one thread per core (one for a tiny model), and a lower setting applies to the next job', async ({ page }) => {
  await openApp(page, { backend: 'wasm' });
  expect(await page.evaluate(() => crossOriginIsolated), 'threads need cross-origin isolation').toBe(true);
  const all = Math.min(await cores(page), WASM_MAX_THREADS);
  const threads = page.getByTestId('backend-threads');

  await trainMediumModel(page);
  await expect(page.getByTestId('backend-name')).toHaveText('wasm');
  await expect(threads).toHaveAttribute('data-threads', String(all));

  // XOR's 2-8-8-1 net: waking a second thread costs more than its matrix products.
  await startTraining(page, { dataset: 'sample:xor', epochs: 5 });
  await waitForState(page, 'completed', JOB_DONE_TIMEOUT_MS);
  await expect(threads).toHaveAttribute('data-threads', '1');
  await expect(threads).toHaveText('1 thread');

  await page.getByTestId('setting-wasm-threads').selectOption('1');
  await expect(page.getByText('Takes effect when the next job starts.').first()).toBeVisible();
  await trainMediumModel(page);
  await expect(threads).toHaveAttribute('data-threads', '1');
});

interface ResumeCheck {
  backend: string;
  threadsInUse: number | null;
  totalSteps: number;
  checkpointStep: number;
  weights: number;
  maxRelDiff: number;
  identical: boolean;
  controlMaxRelDiff: number;
}

test('a run interrupted mid-epoch and resumed from its checkpoint on threaded WASM ends within 1e-5 relative of an uninterrupted run', async ({
  page,
}) => {
  test.setTimeout(180_000);
  await page.goto('/bench.html');
  await page.waitForFunction(() => document.body.dataset.ready === 'true');
  const all = Math.min(await cores(page), WASM_MAX_THREADS);
  // The 784-256-256-10 MLP of the bench on 640 rows: 4 steps an epoch, 12 in all; the interrupted
  // run stops after step 6, in the middle of the second epoch.
  const model = { id: 'resume', features: 784, hidden: [256, 256], classes: 10, samples: 640, batchSize: 128, epochs: 3, learningRate: 0.001, validationSplit: 0.2, budgetMs: 0, maxMs: 0 };
  const result = await page.evaluate(
    (request) => (window as unknown as { __latheBench: { resumeCheck(r: unknown, ms: number): Promise<unknown> } }).__latheBench.resumeCheck(request, 150_000),
    { model, interruptAt: 6, threads: null, backend: 'wasm' },
  ) as ResumeCheck;
  console.log(`resume on wasm with ${result.threadsInUse} threads: max relative difference ${result.maxRelDiff} (bit-identical: ${result.identical}); another seed: ${result.controlMaxRelDiff}`);
  expect(result.backend).toBe('wasm');
  expect(result.threadsInUse).toBe(all);
  expect(result.totalSteps).toBe(12);
  expect(result.checkpointStep).toBe(6);
  expect(result.weights).toBe(784 * 256 + 256 + 256 * 256 + 256 + 256 * 10 + 10);
  expect(result.maxRelDiff).toBeLessThanOrEqual(1e-5);
  // The comparison can fail: another seed ends far away.
  expect(result.controlMaxRelDiff).toBeGreaterThan(1e-2);
});
