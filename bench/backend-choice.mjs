// @ts-check
// Which backend the app picks by itself, per model size class: a fresh profile (so no cached probe)
// loads the app without `?backend`, starts a job, and reads the header. The summary compares each
// choice with the throughput table of the bench model in the same size class.
import { START_TIMEOUT_MS, newAppContext, openApp, startJob } from './ui-app.mjs';

const BACKEND_NAMES = ['webgpu', 'webgl', 'wasm', 'cpu'];

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
 */
async function choose(browser, baseUrl, choice) {
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
    const chosen = (await page.getByTestId('backend-name').textContent())?.trim() ?? '';
    const reason = (await page.getByTestId('backend-reason').textContent().catch(() => null))?.trim() ?? null;
    return { comparedWith: choice.comparedWith, job: choice.job, chosen, reason, msToChoice: Date.now() - started };
  } finally {
    await context.close();
  }
}

/**
 * @param {import('@playwright/test').Browser} browser
 * @param {string} baseUrl
 * @param {number} count how many of CHOICE_JOBS to run (each costs the app a probe)
 */
export async function runBackendChoice(browser, baseUrl, count) {
  const results = [];
  for (const choice of CHOICE_JOBS.slice(0, count)) results.push(await choose(browser, baseUrl, choice));
  return results;
}
