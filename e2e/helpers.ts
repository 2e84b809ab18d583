// Helpers for the e2e tests: open the app, set up and submit a job, read the job view. They use
// only the test ids and attributes in docs/ui-contract.md.
import { expect, type Locator, type Page } from '@playwright/test';

export type BackendChoice = 'webgpu' | 'webgl' | 'wasm' | 'cpu';

/**
 * The first call into a fresh training worker loads its 2.5 MB script and TensorFlow.js: seconds
 * on a busy 2-core machine. Waits for what only the worker can answer use this; in ms.
 */
export const WORKER_READY_TIMEOUT_MS = 30_000;

/** Long enough for a backend to initialise on the SwiftShader WebGPU adapter; in ms. */
export const BACKEND_READY_TIMEOUT_MS = 60_000;

/** Opens the app, optionally forcing a backend with `?backend=`, and waits for the setup panel. */
export async function openApp(page: Page, opts: { backend?: BackendChoice } = {}): Promise<void> {
  await page.goto(opts.backend ? `/?backend=${opts.backend}` : '/');
  await expect(page.getByTestId('dataset-select')).toBeVisible();
}

export function jobView(page: Page): Locator {
  return page.getByTestId('job-view');
}

export function jobRows(page: Page): Locator {
  return page.getByTestId('job-row');
}

export function jobRow(page: Page, jobId: string): Locator {
  return page.locator(`[data-testid=job-row][data-job-id="${jobId}"]`);
}

/** An attribute as a number; NaN when it is missing or empty (e.g. "no checkpoint yet"). */
export async function numAttr(locator: Locator, name: string): Promise<number> {
  const value = await locator.getAttribute(name);
  return value === null || value.trim() === '' ? Number.NaN : Number(value);
}

/** Sets the checkpoint interval in the settings, in seconds. */
export async function setCheckpointIntervalSec(page: Page, seconds: number): Promise<void> {
  const input = page.getByTestId('setting-checkpoint-interval');
  await input.fill(String(seconds));
  await input.blur();
  await expect(input).toHaveValue(String(seconds));
}

export interface TrainOptions {
  /** A dataset-select option value; the XOR sample by default. */
  dataset?: string;
  /** Overrides the sample's recommended epochs. */
  epochs?: number;
  /** Overrides the sample's recommended batch size. */
  batchSize?: number;
  /** A breakpoint: the job pauses by itself right after this step or epoch. */
  pauseAt?: { kind: 'step' | 'epoch'; at: number };
}

/**
 * An XOR job that cannot end while a test watches it, on any machine: 100,000 epochs of 192
 * single-row steps is 19.2 million steps, and a tfjs step costs tens of microseconds of dispatch
 * even on the fastest CPU, so it runs for many minutes; tests cancel it. For tests that need a
 * job to be running (not paused, not done) when they act.
 */
export const ENDLESS_XOR: TrainOptions = { dataset: 'sample:xor', epochs: 100_000, batchSize: 1 };

async function fillNumber(page: Page, testId: string, value: number): Promise<void> {
  const input = page.getByTestId(testId);
  await input.fill(String(value));
  await input.blur();
  await expect(input).toHaveValue(String(value));
}

/** Ids of the jobs a tab lists. */
export async function listedJobIds(page: Page): Promise<string[]> {
  return jobRows(page).evaluateAll((rows) => rows.map((r) => r.getAttribute('data-job-id') ?? ''));
}

/**
 * Chooses a dataset (which fills in its recommended config), optionally changes the epochs, presses
 * Train, and waits until the new job is listed and selected. Returns the new job's id.
 */
export async function startTraining(page: Page, opts: TrainOptions = {}): Promise<string> {
  await page.getByTestId('dataset-select').selectOption(opts.dataset ?? 'sample:xor');
  if (opts.epochs !== undefined) await fillNumber(page, 'epochs', opts.epochs);
  if (opts.batchSize !== undefined) await fillNumber(page, 'batch-size', opts.batchSize);
  await page.getByTestId('breakpoint-kind').selectOption(opts.pauseAt?.kind ?? 'none');
  if (opts.pauseAt) await fillNumber(page, 'breakpoint-at', opts.pauseAt.at);
  await expect(page.getByTestId('config-errors')).toHaveCount(0);
  const before = new Set(await listedJobIds(page));
  await page.getByTestId('train-button').click();
  let jobId = '';
  await expect
    .poll(
      async () => {
        jobId = (await listedJobIds(page)).find((id) => id !== '' && !before.has(id)) ?? '';
        return jobId;
      },
      { message: 'a new job row appears after Train', timeout: 15_000 },
    )
    .not.toBe('');
  await expect(jobView(page)).toHaveAttribute('data-job-id', jobId);
  return jobId;
}

/** Makes `jobId` the job shown in the job view, clicking its row's select button if needed. */
export async function selectJob(page: Page, jobId: string): Promise<void> {
  await expect(jobRow(page, jobId)).toBeVisible();
  const view = jobView(page);
  if ((await view.count()) > 0 && (await view.getAttribute('data-job-id')) === jobId) return;
  await jobRow(page, jobId).locator('button, a').first().click();
  await expect(jobView(page)).toHaveAttribute('data-job-id', jobId);
}

/** Waits until the selected job is running and has taken at least `minSteps` steps. */
export async function waitUntilTraining(page: Page, minSteps = 1, timeout = BACKEND_READY_TIMEOUT_MS): Promise<void> {
  const view = jobView(page);
  await expect(view).toHaveAttribute('data-state', 'running', { timeout });
  await expect
    .poll(() => numAttr(view, 'data-step'), { message: `at least ${minSteps} steps taken`, timeout })
    .toBeGreaterThanOrEqual(minSteps);
}

const TERMINAL = new Set(['completed', 'failed', 'cancelled']);

/**
 * Waits for the selected job to reach `state`. Fails at once, naming what happened, if the job
 * ends in another state (it failed, or completed while a pause was expected), and fails when
 * neither its state nor its step has changed for `stallMs`: a stuck job costs `stallMs`, while a
 * job that keeps moving on a slow or loaded machine is waited for, up to the test's own timeout.
 */
export async function waitForState(page: Page, state: string, stallMs: number): Promise<void> {
  const view = jobView(page);
  let last = '';
  let lastChange = Date.now();
  for (;;) {
    const current = await view.getAttribute('data-state');
    if (current === state) return;
    const step = await view.getAttribute('data-step');
    if (current === 'failed') {
      const error = await view.getByTestId('job-error').textContent().catch(() => null);
      throw new Error(`The job failed: ${error ?? '(no error shown)'}`);
    }
    if (current !== null && TERMINAL.has(current)) throw new Error(`The job ended "${current}" at step ${step}, not "${state}".`);
    const seen = `${current} ${step}`;
    if (seen !== last) {
      last = seen;
      lastChange = Date.now();
    } else if (Date.now() - lastChange > stallMs) {
      throw new Error(`The job never reached "${state}": it stayed "${current}" at step ${step} for ${stallMs / 1000} s.`);
    }
    await page.waitForTimeout(250);
  }
}

/** Sets the selected job's breakpoint from the job view and waits until the job shows it. */
export async function setJobBreakpoint(page: Page, kind: 'step' | 'epoch', at: number): Promise<void> {
  const view = jobView(page);
  await view.getByTestId('job-breakpoint-kind').selectOption(kind);
  await fillNumber(page, 'job-breakpoint-at', at);
  await view.getByTestId('job-breakpoint-set').click();
  await expect(view.getByTestId('job-breakpoint')).toHaveAttribute('data-breakpoint', `${kind}:${at}`);
}

/** Fills the selected job's prediction form (one field per input column), predicts, and returns the raw outputs. */
export async function predictWithForm(page: Page, values: Record<string, string>): Promise<number[]> {
  const view = jobView(page);
  for (const [column, value] of Object.entries(values)) {
    const field = view.locator(`[data-testid=predict-field][data-column="${column}"]`);
    const select = field.locator('select');
    if ((await select.count()) > 0) await select.selectOption(value);
    else await field.locator('input').fill(value);
  }
  const output = view.getByTestId('predict-output');
  await view.getByTestId('predict-button').click();
  await expect(output).toBeVisible();
  // The button is disabled while the worker predicts; enabled again, the output is this row's.
  await expect(view.getByTestId('predict-button')).toBeEnabled();
  const json = await output.getAttribute('data-outputs');
  return (JSON.parse(json!) as number[][])[0]!;
}
