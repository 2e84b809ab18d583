// A reload kills the worker mid-training; the job must come back as interrupted and resume from
// its newest checkpoint, not from step 0. The run is made to stop where the test needs it (a
// breakpoint), or cannot end while the test acts (ENDLESS_XOR), so nothing here depends on how
// fast the machine trains.
import { expect, test } from '@playwright/test';
import {
  ENDLESS_XOR, jobRow, jobView, numAttr, openApp, selectJob, setCheckpointIntervalSec, startTraining, waitForState,
} from './helpers';

interface ViewSnapshot {
  state: string | null;
  step: string | null;
  resumedFrom: string | null;
}

/** XOR: 192 training rows in batches of 32 is 6 steps an epoch. */
const EPOCHS = 60;
const BREAKPOINT_STEP = 60;

test('a reload mid-training shows the job as interrupted and Resume continues from the checkpoint step', async ({ page }) => {
  test.setTimeout(120_000);
  await openApp(page, { backend: 'wasm' });
  await setCheckpointIntervalSec(page, 1);
  const jobId = await startTraining(page, { ...ENDLESS_XOR, pauseAt: { kind: 'step', at: BREAKPOINT_STEP } });
  const view = jobView(page);

  // The breakpoint stops the run at exactly this step, with a checkpoint there.
  await waitForState(page, 'paused', 60_000);
  await expect(view).toHaveAttribute('data-step', String(BREAKPOINT_STEP));
  await expect(view).toHaveAttribute('data-checkpoint-step', String(BREAKPOINT_STEP));
  await expect(view.getByTestId('job-notice')).toContainText(`step ${BREAKPOINT_STEP}`);

  // Resumed, it trains on past the breakpoint and cannot end before the reload.
  await view.getByTestId('resume-button').click();
  await expect.poll(() => numAttr(view, 'data-step'), { message: 'steps past the breakpoint' }).toBeGreaterThan(BREAKPOINT_STEP);
  await expect(view).toHaveAttribute('data-state', 'running');

  await page.reload();
  await selectJob(page, jobId);
  await expect(jobRow(page, jobId)).toHaveAttribute('data-state', 'interrupted');
  await expect(view).toHaveAttribute('data-state', 'interrupted');
  await expect(view.getByTestId('job-notice')).toContainText('Interrupted');
  const resume = view.getByTestId('resume-button');
  await expect(resume).toBeVisible();
  const checkpointStep = await numAttr(view, 'data-checkpoint-step');
  expect(checkpointStep, 'the interrupted job shows its checkpoint step').toBeGreaterThanOrEqual(BREAKPOINT_STEP);

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
  await expect.poll(() => numAttr(view, 'data-step'), { message: 'steps past the checkpoint' }).toBeGreaterThan(checkpointStep);
  await expect(view).toHaveAttribute('data-state', 'running');

  const log = await page.evaluate(() => (window as unknown as { __viewLog: ViewSnapshot[] }).__viewLog);
  const firstRunning = log.find((s) => s.state === 'running' && s.step !== null && s.step !== '');
  expect(firstRunning, 'the job view showed the resumed job running').toBeDefined();
  console.log(`checkpoint step ${checkpointStep}; first step shown after resuming ${firstRunning!.step}`);
  expect(Number(firstRunning!.step)).toBeGreaterThanOrEqual(checkpointStep);
  await expect(view).toHaveAttribute('data-resumed-from-step', String(checkpointStep));
  await view.getByTestId('cancel-button').click();
  await waitForState(page, 'cancelled', 10_000);
});

test('a breakpoint set on a paused job survives a reload and pauses the resumed run at exactly that step', async ({ page }) => {
  test.setTimeout(120_000);
  await openApp(page, { backend: 'cpu' });
  const jobId = await startTraining(page, { dataset: 'sample:xor', epochs: EPOCHS, pauseAt: { kind: 'epoch', at: 5 } });
  const view = jobView(page);
  await waitForState(page, 'paused', 60_000);
  await expect(view).toHaveAttribute('data-step', String(5 * 6));
  await expect(view.getByTestId('job-breakpoint')).toHaveAttribute('data-breakpoint', '');

  await view.getByTestId('job-breakpoint-kind').selectOption('step');
  await view.getByTestId('job-breakpoint-at').fill('100');
  await view.getByTestId('job-breakpoint-set').click();
  await expect(view.getByTestId('job-breakpoint')).toHaveAttribute('data-breakpoint', 'step:100');

  await page.reload();
  await selectJob(page, jobId);
  await expect(view).toHaveAttribute('data-state', 'paused');
  await expect(view.getByTestId('job-breakpoint')).toHaveAttribute('data-breakpoint', 'step:100');
  await view.getByTestId('resume-button').click();
  await expect(view).toHaveAttribute('data-resumed-from-step', '30', { timeout: 60_000 });
  await waitForState(page, 'paused', 60_000);
  await expect(view).toHaveAttribute('data-step', '100');
  await expect(view).toHaveAttribute('data-checkpoint-step', '100');

  // A breakpoint the run has passed is refused in words, and nothing changes.
  await view.getByTestId('job-breakpoint-kind').selectOption('step');
  await view.getByTestId('job-breakpoint-at').fill('50');
  await view.getByTestId('job-breakpoint-set').click();
  await expect(page.getByRole('alert').filter({ hasText: 'step 100' })).toBeVisible();
  await expect(view.getByTestId('job-breakpoint')).toHaveAttribute('data-breakpoint', '');
});
