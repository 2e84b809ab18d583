// @ts-check
// Device A's state change to device B's page (issue 11): two browser contexts (two devices, each
// its own IndexedDB and device id) signed in to the bench server's sync API as the same user. A
// trains a long XOR job; the bench pauses and resumes it from A's job view, one change at a time,
// and waits until B's remote job row shows each one before making the next, so no change can be
// coalesced with another or race the trainer. Times are Date.now() of this machine's one clock:
// when A's worker made the change (the `at` of the job-log line it wrote with it, read back from
// A's IndexedDB), when A's page showed it, and when B's page showed it (MutationObservers).
import { START_TIMEOUT_MS, UI_TIMEOUT_MS, openApp, startXorJob, waitForView } from './ui-app.mjs';
import { max, median, percentile } from './stats.mjs';

/** @typedef {import('./config.mjs').BenchConfig} BenchConfig */

/** A change not seen on B within this long is an error, not a sample; in ms. */
const DELIVERY_TIMEOUT_MS = 15_000;

/**
 * Runs in a page: records `{ state, t }` (t = Date.now()) whenever the `data-state` of the element
 * matching `selector` changes, in `window.__stateLog`.
 * @param {string} selector
 */
function watchState(selector) {
  /** @type {any} */
  const w = window;
  /** @type {{ state: string, t: number }[]} */
  const log = [];
  w.__stateLog = log;
  let last = document.querySelector(selector)?.getAttribute('data-state') ?? null;
  new MutationObserver(() => {
    const now = document.querySelector(selector)?.getAttribute('data-state') ?? null;
    if (now !== null && now !== last) log.push({ state: now, t: Date.now() });
    last = now;
  }).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-state', 'data-job-id'] });
}

/**
 * Waits until the page's state log holds an entry after index `from` with `state`; returns it.
 * @param {import('@playwright/test').Page} page
 * @param {number} from
 * @param {string} state
 * @param {string} who
 * @returns {Promise<{ index: number, t: number }>}
 */
async function nextEntry(page, from, state, who) {
  try {
    const handle = await page.waitForFunction(
      ([start, wanted]) => {
        const log = /** @type {{ state: string, t: number }[]} */ (/** @type {any} */ (window).__stateLog);
        const index = log.findIndex((e, i) => i >= start && e.state === wanted);
        return index < 0 ? null : { index, t: log[index]?.t ?? 0 };
      },
      /** @type {const} */ ([from, state]),
      { timeout: DELIVERY_TIMEOUT_MS, polling: 20 },
    );
    return /** @type {{ index: number, t: number }} */ (await handle.jsonValue());
  } catch (err) {
    throw new Error(`${who} did not show the job as "${state}" within ${DELIVERY_TIMEOUT_MS / 1000} s: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/**
 * Runs in a page: the `at` (Date.now() when A's worker wrote it) of the job's newest log line of
 * `kind`, read from the app's IndexedDB (database "lathe", store "jobs"); null when there is none.
 * @param {[string, string]} args job id and log kind
 * @returns {Promise<number | null>}
 */
async function lastLogAt([jobId, kind]) {
  /** @type {<T>(r: IDBRequest<T>) => Promise<T>} */
  const done = (r) => new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(new Error(r.error?.message ?? 'An IndexedDB request failed.'));
  });
  const db = await done(indexedDB.open('lathe'));
  try {
    const job = await done(db.transaction('jobs').objectStore('jobs').get(jobId));
    const lines = /** @type {{ at: number, kind: string }[]} */ (job?.log ?? []).filter((e) => e.kind === kind);
    return lines.at(-1)?.at ?? null;
  } finally {
    db.close();
  }
}

/**
 * One device: a fresh context with the app open on the cpu backend and sync turned on.
 * @param {import('@playwright/test').Browser} browser
 * @param {string} baseUrl
 * @param {string} token
 */
async function openDevice(browser, baseUrl, token) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  await openApp(page, baseUrl, 'cpu');
  await page.getByTestId('sync-token').fill(token);
  await page.getByTestId('sync-enable').click();
  await page.locator('[data-testid=sync-status][data-status=connected]').waitFor({ timeout: UI_TIMEOUT_MS });
  return { context, page };
}

/**
 * @param {import('@playwright/test').Browser} browser
 * @param {string} baseUrl the bench server, which serves the sync API too
 * @param {string} token the bench server's token
 * @param {BenchConfig} cfg
 * @param {(line: string) => void} log
 */
export async function runSyncDelayBench(browser, baseUrl, token, cfg, log) {
  const a = await openDevice(browser, baseUrl, token);
  try {
    const b = await openDevice(browser, baseUrl, token);
    try {
      const jobId = await startXorJob(a.page, cfg.longJobEpochs);
      await waitForView(a.page, 'running', { minStep: 0, timeout: START_TIMEOUT_MS });
      const row = `[data-testid=remote-job-row][data-job-id="${jobId}"]`;
      await b.page.locator(`${row}[data-state=running]`).waitFor({ timeout: DELIVERY_TIMEOUT_MS });
      await a.page.evaluate(watchState, `[data-testid=job-view][data-job-id="${jobId}"]`);
      await b.page.evaluate(watchState, row);
      log(`A → B: ${cfg.syncChanges} pauses and resumes of A's job, each waited for on B…`);
      /** @type {{ state: string, madeToShownOnBMs: number, shownOnAToBMs: number }[]} */
      const changes = [];
      let previousAt = -Infinity;
      let fromA = 0;
      let fromB = 0;
      // Each change with the job-log kind A's worker writes with it (shared/job-log.ts).
      for (let i = 0; i < cfg.syncChanges; i++) {
        const [button, state, kind] = i % 2 === 0 ? ['pause-button', 'paused', 'paused'] : ['resume-button', 'running', 'resumed'];
        await a.page.getByTestId('job-view').getByTestId(button).click({ timeout: UI_TIMEOUT_MS });
        const shownOnA = await nextEntry(a.page, fromA, state, 'Device A');
        const shownOnB = await nextEntry(b.page, fromB, state, 'Device B');
        fromA = shownOnA.index + 1;
        fromB = shownOnB.index + 1;
        const madeAt = await a.page.evaluate(lastLogAt, /** @type {[string, string]} */ ([jobId, kind]));
        if (madeAt === null || madeAt <= previousAt) throw new Error(`A's job has no new "${kind}" log line for change ${i + 1}.`);
        previousAt = madeAt;
        changes.push({ state, madeToShownOnBMs: shownOnB.t - madeAt, shownOnAToBMs: shownOnB.t - shownOnA.t });
      }
      // Stop the job so that later sections get the cores.
      await a.page.getByTestId('job-view').getByTestId('cancel-button').click({ timeout: UI_TIMEOUT_MS });
      await waitForView(a.page, 'cancelled');
      const made = changes.map((c) => c.madeToShownOnBMs);
      const shown = changes.map((c) => c.shownOnAToBMs);
      return {
        method: "two browser contexts as two devices of one user; Date.now() of the job-log line A's worker wrote with the change, and of A's job view and B's remote job row when their data-state changed",
        changes,
        /** From A's worker making the change (pause or resume) to B's page showing it: the headline. */
        p50Ms: median(made),
        p95Ms: percentile(made, 95),
        maxMs: max(made),
        /** From A's own page showing the change to B's page showing it. */
        fromPageA: { p50Ms: median(shown), p95Ms: percentile(shown, 95), maxMs: max(shown) },
      };
    } finally {
      await b.context.close();
    }
  } finally {
    await a.context.close();
  }
}
