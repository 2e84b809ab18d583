// @ts-check
// Drives the real app (the production index.html) only through the test ids and attributes in
// docs/ui-contract.md: open it, start an XOR job, select a job, wait for a state or a step.
import { installProbes } from './ui-probes.mjs';

/** Backend initialisation plus the first step; generous because the machine may be busy, in ms. */
export const START_TIMEOUT_MS = 90_000;
/** How long a click may take to show its effect before the bench gives up, in ms. */
export const UI_TIMEOUT_MS = 30_000;

/**
 * A fresh browser context (empty IndexedDB, so no earlier run's jobs) with the probes installed.
 * @param {import('@playwright/test').Browser} browser
 */
export async function newAppContext(browser) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await context.addInitScript(installProbes);
  return context;
}

/**
 * @param {import('@playwright/test').Page} page
 * @param {string} baseUrl
 * @param {string} [backend] forces a backend with `?backend=`
 */
export async function openApp(page, baseUrl, backend) {
  await page.goto(backend ? `${baseUrl}/?backend=${backend}` : `${baseUrl}/`);
  await page.getByTestId('train-button').waitFor({ state: 'visible', timeout: UI_TIMEOUT_MS });
}

/** @param {import('@playwright/test').Page} page */
async function jobIds(page) {
  return page.getByTestId('job-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-job-id') ?? ''));
}

/**
 * @typedef {object} JobSetup
 * @property {string} [dataset] a dataset-select option value; XOR by default
 * @property {number} epochs
 * @property {number[]} [units] units of the sample's hidden layers, layer by layer
 */

/**
 * Chooses a sample (which fills in its recommended config), changes the epochs and optionally the
 * hidden layers' units, presses Train, and waits until the new job is listed and shown. Returns
 * its id.
 * @param {import('@playwright/test').Page} page
 * @param {JobSetup} setup
 */
export async function startJob(page, { dataset = 'sample:xor', epochs, units = [] }) {
  await page.getByTestId('dataset-select').selectOption(dataset);
  const fields = [['epochs', epochs], ...units.map((u, i) => [`layer-units-${i}`, u])];
  for (const [testid, value] of fields) {
    const input = page.getByTestId(String(testid));
    await input.fill(String(value));
    await input.blur();
  }
  const before = new Set(await jobIds(page));
  await page.waitForFunction(() => !document.querySelector('[data-testid=train-button]')?.hasAttribute('disabled'), null, {
    timeout: UI_TIMEOUT_MS,
  });
  await page.getByTestId('train-button').click();
  const deadline = Date.now() + UI_TIMEOUT_MS;
  let id = '';
  while (!id) {
    if (Date.now() > deadline) throw new Error('No new job row appeared after pressing Train.');
    await page.waitForTimeout(50);
    id = (await jobIds(page)).find((j) => j !== '' && !before.has(j)) ?? '';
  }
  await selectJob(page, id);
  return id;
}

/**
 * An XOR job with the sample's recommended config and `epochs` epochs.
 * @param {import('@playwright/test').Page} page
 * @param {number} epochs
 */
export function startXorJob(page, epochs) {
  return startJob(page, { epochs });
}

/**
 * @param {import('@playwright/test').Page} page
 * @param {string} jobId
 */
export async function selectJob(page, jobId) {
  const view = page.getByTestId('job-view');
  if ((await view.count()) > 0 && (await view.getAttribute('data-job-id')) === jobId) return;
  await page.locator(`[data-testid=job-row][data-job-id="${jobId}"] button`).first().click();
  await page.locator(`[data-testid=job-view][data-job-id="${jobId}"]`).waitFor({ timeout: UI_TIMEOUT_MS });
}

/**
 * Waits until the shown job is in `state` (with a step above `minStep`, when given). Fails early,
 * with the job's error, if it fails.
 * @param {import('@playwright/test').Page} page
 * @param {string} state
 * @param {{ minStep?: number, timeout?: number }} [opts]
 */
export async function waitForView(page, state, { minStep = -Infinity, timeout = UI_TIMEOUT_MS } = {}) {
  const handle = await page.waitForFunction(
    ([wanted, min]) => {
      const v = document.querySelector('[data-testid=job-view]');
      if (!v) return false;
      const s = v.getAttribute('data-state');
      if (s === 'failed' && wanted !== 'failed') return { failed: v.querySelector('[data-testid=job-error]')?.textContent ?? 'unknown error' };
      return s === wanted && Number(v.getAttribute('data-step') || NaN) > min;
    },
    /** @type {const} */ ([state, minStep]),
    { timeout, polling: 50 },
  );
  const value = await handle.jsonValue();
  if (value && typeof value === 'object' && 'failed' in value) throw new Error(`The job failed: ${value.failed}`);
}

/**
 * @param {import('@playwright/test').Page} page
 * @param {string} name
 */
export async function viewNumber(page, name) {
  const value = await page.getByTestId('job-view').getAttribute(name);
  return value === null || value.trim() === '' ? Number.NaN : Number(value);
}
