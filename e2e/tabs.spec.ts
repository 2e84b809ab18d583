// One trainer per browser: a job submitted in a second tab waits in the queue until the first
// tab's job is done, and both tabs show both jobs.
import { expect, test, type Page } from '@playwright/test';
import { ENDLESS_XOR, jobRow, jobView, listedJobIds, openApp, selectJob, startTraining, waitUntilTraining } from './helpers';

interface RunningLog {
  /** Batches of DOM changes to the job list (rows added or removed, a row's state changed). */
  samples: number;
  /** Most rows shown as running at once. */
  maxRunning: number;
  /** The job ids shown as running at the first moment with more than one. */
  violation: string[] | null;
}

/** Checks, at every change of the page's DOM, how many job rows say "running". */
function watchRunningRows(): void {
  const w = window as unknown as { __running: RunningLog };
  w.__running = { samples: 0, maxRunning: 0, violation: null };
  const check = (): void => {
    const running = [...document.querySelectorAll('[data-testid=job-row][data-state=running]')].map(
      (r) => r.getAttribute('data-job-id') ?? '',
    );
    const log = w.__running;
    log.samples++;
    log.maxRunning = Math.max(log.maxRunning, running.length);
    if (running.length > 1 && log.violation === null) log.violation = running;
  };
  const start = (): void => {
    new MutationObserver(check).observe(document.documentElement, {
      subtree: true,
      childList: true,
      attributes: true,
      attributeFilter: ['data-state'],
    });
    check();
  };
  if (document.documentElement) start();
  else document.addEventListener('DOMContentLoaded', start);
}

async function runningLog(page: Page): Promise<RunningLog> {
  return page.evaluate(() => (window as unknown as { __running: RunningLog }).__running);
}

test('a second tab cannot start a second concurrent training', async ({ context }) => {
  test.setTimeout(180_000);
  await context.addInitScript(watchRunningRows);
  const tabA = await context.newPage();
  const tabB = await context.newPage();
  await openApp(tabA, { backend: 'wasm' });
  await openApp(tabB, { backend: 'wasm' });

  // A trains until the test cancels it, however fast the machine.
  const jobA = await startTraining(tabA, ENDLESS_XOR);
  await waitUntilTraining(tabA);
  const jobB = await startTraining(tabB, { dataset: 'sample:xor' });

  // B waits while A trains, and each tab lists both jobs.
  for (const tab of [tabA, tabB]) {
    await expect(jobRow(tab, jobB)).toHaveAttribute('data-state', 'queued');
    await expect(jobRow(tab, jobA)).toHaveAttribute('data-state', 'running');
    expect(await listedJobIds(tab)).toEqual(expect.arrayContaining([jobA, jobB]));
  }

  // Cancelling A frees the trainer; B starts and finishes.
  await selectJob(tabA, jobA);
  await jobView(tabA).getByTestId('cancel-button').click();
  for (const tab of [tabA, tabB]) {
    await expect(jobRow(tab, jobA)).toHaveAttribute('data-state', 'cancelled', { timeout: 10_000 });
  }
  await expect(jobRow(tabB, jobB)).toHaveAttribute('data-state', 'running', { timeout: 60_000 });
  for (const tab of [tabA, tabB]) {
    await expect(jobRow(tab, jobB)).toHaveAttribute('data-state', 'completed', { timeout: 120_000 });
  }

  for (const [name, tab] of [
    ['A', tabA],
    ['B', tabB],
  ] as const) {
    const log = await runningLog(tab);
    console.log(`tab ${name}: ${log.samples} moments checked, at most ${log.maxRunning} running`);
    expect(log.violation, `tab ${name} never shows two running jobs`).toBeNull();
    expect(log.maxRunning, `tab ${name} was watched while jobs ran`).toBe(1);
  }
});
