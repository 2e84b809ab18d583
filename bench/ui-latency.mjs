// @ts-check
// Latency of the app's controls, clicked for real in the production UI: cancel (click → the view
// says cancelled), pause (→ paused), resume in memory (→ running), and resume after a reload
// (page load → interactive, and Resume click → the first step past the checkpoint).
import { START_TIMEOUT_MS, newAppContext, openApp, selectJob, startXorJob, viewNumber, waitForView } from './ui-app.mjs';
import { clickToState, readProbes } from './ui-probes.mjs';
import { median, max } from './stats.mjs';

/** Steps a job takes before a control is clicked, so the click lands mid-training. */
const STEPS_BEFORE_CLICK = 30;
const BACKEND = 'wasm';

/** @typedef {import('./config.mjs').BenchConfig} BenchConfig */

/**
 * @param {import('@playwright/test').Page} page
 * @param {string} testid
 * @param {string} state
 * @param {number} [minStep]
 */
async function clickAndTime(page, testid, state, minStep) {
  await page.getByTestId(testid).click();
  await waitForView(page, state, { minStep, timeout: START_TIMEOUT_MS });
  const ms = clickToState(await readProbes(page), testid, state, minStep);
  if (ms === null) throw new Error(`The bench saw no "${state}" after clicking ${testid}.`);
  return ms;
}

/** @param {number[]} ms */
const summary = (ms) => ({ samplesMs: ms, medianMs: median(ms), maxMs: max(ms) });

/**
 * Click on a job row → the job view shows that job: the same click-to-DOM path without a worker
 * round trip, the baseline for cancel and pause.
 * @param {import('@playwright/test').Page} page
 * @param {string[]} jobIds at least two
 * @param {number} reps
 */
async function selectLatency(page, jobIds, reps) {
  /** @type {number[]} */
  const ms = [];
  for (let i = 0; i < reps * 2; i++) {
    const id = /** @type {string} */ (jobIds[i % jobIds.length]);
    const before = (await readProbes(page)).clicks.length;
    await selectJob(page, id);
    const p = await readProbes(page);
    const click = p.clicks.slice(before).find((c) => c.testid === 'job-row');
    const shown = click && p.views.find((v) => v.t >= click.t && v.id === id);
    if (click && shown) ms.push(shown.t - click.t);
  }
  return summary(ms);
}

/**
 * @param {import('@playwright/test').Browser} browser
 * @param {string} baseUrl
 * @param {BenchConfig} cfg
 * @param {(line: string) => void} log
 */
export async function runLatencyBenches(browser, baseUrl, cfg, log) {
  const context = await newAppContext(browser);
  try {
    const page = await context.newPage();
    await openApp(page, baseUrl, BACKEND);
    log('cancel…');
    /** @type {number[]} */
    const cancel = [];
    /** @type {string[]} */
    const jobs = [];
    for (let i = 0; i < cfg.latencyReps; i++) {
      jobs.push(await startXorJob(page, cfg.longJobEpochs));
      await waitForView(page, 'running', { minStep: STEPS_BEFORE_CLICK, timeout: START_TIMEOUT_MS });
      cancel.push(await clickAndTime(page, 'cancel-button', 'cancelled'));
    }
    log('pause…');
    /** @type {number[]} */
    const pause = [];
    /** @type {number[]} */
    const resume = [];
    jobs.push(await startXorJob(page, cfg.longJobEpochs));
    await waitForView(page, 'running', { minStep: STEPS_BEFORE_CLICK, timeout: START_TIMEOUT_MS });
    for (let i = 0; i < cfg.latencyReps; i++) {
      pause.push(await clickAndTime(page, 'pause-button', 'paused'));
      const step = await viewNumber(page, 'data-step');
      resume.push(await clickAndTime(page, 'resume-button', 'running', step));
      await waitForView(page, 'running', { minStep: step + STEPS_BEFORE_CLICK });
    }
    await page.getByTestId('cancel-button').click();
    await waitForView(page, 'cancelled');
    const baseline = await selectLatency(page, jobs, cfg.latencyReps);
    log('resume after reload…');
    const afterReload = await resumeAfterReload(page, cfg);
    return {
      backend: BACKEND,
      cancel: summary(cancel),
      pause: summary(pause),
      resumeInMemory: summary(resume),
      selectJob: baseline,
      resumeAfterReload: afterReload,
    };
  } finally {
    await context.close();
  }
}

/**
 * Trains until a checkpoint exists, reloads (which kills the worker mid-training), and resumes the
 * interrupted job.
 * @param {import('@playwright/test').Page} page
 * @param {BenchConfig} cfg
 */
async function resumeAfterReload(page, cfg) {
  const jobId = await startXorJob(page, cfg.longJobEpochs);
  await waitForView(page, 'running', { minStep: 1, timeout: START_TIMEOUT_MS });
  await page.waitForFunction(
    () => Number(document.querySelector('[data-testid=job-view]')?.getAttribute('data-checkpoint-step') || 0) > 0,
    null,
    { timeout: START_TIMEOUT_MS, polling: 50 },
  );
  await page.reload();
  await page
    .locator(`[data-testid=job-row][data-job-id="${jobId}"][data-state=interrupted]`)
    .waitFor({ timeout: START_TIMEOUT_MS });
  await selectJob(page, jobId);
  await waitForView(page, 'interrupted', { timeout: START_TIMEOUT_MS });
  const checkpointStep = await viewNumber(page, 'data-checkpoint-step');
  const clickMs = await clickAndTime(page, 'resume-button', 'running', checkpointStep);
  const p = await readProbes(page);
  const shownAt = p.rowStates[`${jobId}|interrupted`] ?? null;
  const loadToInteractiveMs = p.interactiveAt === null || shownAt === null ? null : Math.max(p.interactiveAt, shownAt);
  const firstStep = p.views.find((v) => v.state === 'running' && v.step > checkpointStep);
  await page.getByTestId('cancel-button').click();
  await waitForView(page, 'cancelled');
  return {
    checkpointStep,
    firstStepShown: firstStep ? firstStep.step : null,
    /** Navigation start → the app is interactive and lists the job as interrupted. */
    loadToInteractiveMs,
    /** Resume click → the job view shows a step past the checkpoint's. */
    clickToFirstStepMs: clickMs,
    /** The two together: a reload to training again, without the user's reaction time. */
    totalMs: loadToInteractiveMs === null ? null : loadToInteractiveMs + clickMs,
  };
}
