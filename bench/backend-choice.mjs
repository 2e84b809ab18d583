// @ts-check
// Which backend the app picks by itself, per model size class: a fresh profile (so no cached probe)
// loads the app without `?backend`, starts a job, and reads the header. The summary compares each
// choice with the throughput table of the bench model in the same size class, and the probe's
// duration (from the header's reason) with its 2 s budget. Backends the probe still measured in
// the background are waited for (full runs), so the complete ranking is recorded too.
import { START_TIMEOUT_MS, newAppContext, openApp, startJob } from './ui-app.mjs';

const BACKEND_NAMES = ['webgpu', 'webgl', 'wasm', 'cpu'];
/** How long a background (late) measurement may take before the bench stops waiting, in ms. */
const LATE_WAIT_MS = 40_000;
/** The reason text while backends are still being measured (workers/backend.ts describeProbe). */
const STILL_MEASURING = /measured in the background for the next job/;

/**
 * The probe's duration as the app reports it ("measured in a 1234 ms probe"); null when the choice
 * came from the cache or was not measured.
 * @param {string | null} reason
 */
export function probeMsFromReason(reason) {
  const m = /measured in a (\d+) ms probe/.exec(reason ?? '');
  return m ? Number(m[1]) : null;
}

/**
 * A job the app probes for, and the bench model of the same size class (workers/backend-probe.ts:
 * under 10k parameters is small, under 1M medium).
 * @typedef {object} ChoiceJob
 * @property {string} comparedWith a bench model id (config.mjs)
 * @property {string} job what is trained
 * @property {import('./ui-app.mjs').JobSetup} setup
 */

/** @type {ChoiceJob[]} */
export const CHOICE_JOBS = [
  { comparedWith: 'iris', job: 'XOR sample, 2×8 tanh (small)', setup: { epochs: 5 } },
  { comparedWith: 'mlp784', job: 'Iris sample, 2×256 relu (medium)', setup: { dataset: 'sample:iris', epochs: 3, units: [256, 256] } },
];

/**
 * @param {import('@playwright/test').Browser} browser
 * @param {string} baseUrl
 * @param {ChoiceJob} choice
 * @param {boolean} waitForLate
 */
async function choose(browser, baseUrl, choice, waitForLate) {
  const context = await newAppContext(browser);
  try {
    const page = await context.newPage();
    await openApp(page, baseUrl);
    const started = Date.now();
    await startJob(page, choice.setup);
    await page.waitForFunction(
      (names) => names.includes(document.querySelector('[data-testid=backend-name]')?.textContent?.trim() ?? ''),
      BACKEND_NAMES,
      { timeout: START_TIMEOUT_MS, polling: 100 },
    );
    const msToChoice = Date.now() - started;
    const chosen = (await page.getByTestId('backend-name').textContent())?.trim() ?? '';
    const readReason = async () => (await page.getByTestId('backend-reason').textContent().catch(() => null))?.trim() ?? null;
    const reason = await readReason();
    let completeReason = null;
    let msToComplete = null;
    if (waitForLate && STILL_MEASURING.test(reason ?? '')) {
      const done = await page
        .waitForFunction((re) => !new RegExp(re).test(document.querySelector('[data-testid=backend-reason]')?.textContent ?? ''), STILL_MEASURING.source, { timeout: LATE_WAIT_MS, polling: 250 })
        .then(() => true, () => false);
      if (done) {
        msToComplete = Date.now() - started;
        completeReason = await readReason();
      }
    }
    return { comparedWith: choice.comparedWith, job: choice.job, chosen, reason, msToChoice, probeMs: probeMsFromReason(reason), completeReason, msToComplete };
  } finally {
    await context.close();
  }
}

/**
 * @param {import('@playwright/test').Browser} browser
 * @param {string} baseUrl
 * @param {number} count how many of CHOICE_JOBS to run (each costs the app a probe)
 * @param {boolean} [waitForLate] also wait for backends measured in the background (full runs)
 */
export async function runBackendChoice(browser, baseUrl, count, waitForLate = false) {
  const results = [];
  for (const choice of CHOICE_JOBS.slice(0, count)) results.push(await choose(browser, baseUrl, choice, waitForLate));
  return results;
}
