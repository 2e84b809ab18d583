// A reload kills the worker mid-training; the job must come back as interrupted and resume from
// its newest checkpoint, not from step 0.
import { expect, test } from '@playwright/test';
import {
  jobRow,
  jobView,
  numAttr,
  openApp,
  selectJob,
  setCheckpointIntervalSec,
  startTraining,
  waitForState,
  waitUntilTraining,
} from './helpers';

interface ViewSnapshot {
  state: string | null;
  step: string | null;
  resumedFrom: string | null;
}

test('a reload mid-training shows the job as interrupted and Resume continues from the checkpoint step, then completes', async ({
  page,
}) => {
  test.setTimeout(180_000);
  await openApp(page, { backend: 'wasm' });
  await setCheckpointIntervalSec(page, 1);
  const jobId = await startTraining(page, { dataset: 'sample:xor', epochs: 400 });
  await waitUntilTraining(page);
  const view = jobView(page);
  await expect.poll(() => numAttr(view, 'data-checkpoint-step'), { timeout: 30_000 }).toBeGreaterThan(0);

  await page.reload();
  await selectJob(page, jobId);
  await expect(jobRow(page, jobId)).toHaveAttribute('data-state', 'interrupted');
  await expect(view).toHaveAttribute('data-state', 'interrupted');
  const resume = view.getByTestId('resume-button');
  await expect(resume).toBeVisible();
  const checkpointStep = await numAttr(view, 'data-checkpoint-step');
  expect(checkpointStep, 'the interrupted job shows its checkpoint step').toBeGreaterThan(0);

  // Record every value the job view shows from here on, so "the first step after resuming" is
  // the first one the DOM displayed, not the first one a poll happened to catch.
  await page.evaluate(() => {
    const w = window as unknown as { __viewLog: ViewSnapshot[] };
    w.__viewLog = [];
    let last = '';
    const record = (): void => {
      const el = document.querySelector('[data-testid=job-view]');
      if (!el) return;
      const snap: ViewSnapshot = {
        state: el.getAttribute('data-state'),
        step: el.getAttribute('data-step'),
        resumedFrom: el.getAttribute('data-resumed-from-step'),
      };
      const key = JSON.stringify(snap);
      if (key !== last) w.__viewLog.push(snap);
      last = key;
    };
    new MutationObserver(record).observe(document.body, {
      subtree: true,
      childList: true,
      attributes: true,
      attributeFilter: ['data-state', 'data-step', 'data-resumed-from-step'],
    });
  });
  await resume.click();

  await expect(view).toHaveAttribute('data-resumed-from-step', String(checkpointStep), { timeout: 60_000 });
  await expect(view).toHaveAttribute('data-state', 'running', { timeout: 60_000 });
  await waitForState(page, 'completed', 120_000);

  const log = await page.evaluate(() => (window as unknown as { __viewLog: ViewSnapshot[] }).__viewLog);
  const firstRunning = log.find((s) => s.state === 'running' && s.step !== null && s.step !== '');
  expect(firstRunning, 'the job view showed the resumed job running').toBeDefined();
  console.log(`checkpoint step ${checkpointStep}; first step shown after resuming ${firstRunning!.step}`);
  expect(Number(firstRunning!.step)).toBeGreaterThanOrEqual(checkpointStep);
  await expect(view).toHaveAttribute('data-resumed-from-step', String(checkpointStep));
});
