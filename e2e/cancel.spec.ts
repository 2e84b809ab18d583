// Cancel stops a running job promptly and leaves its checkpoint in place.
import { expect, test } from '@playwright/test';
import { ENDLESS_XOR, jobView, numAttr, openApp, selectJob, startTraining, waitUntilTraining } from './helpers';

/** What the user must see, in ms from the click on Cancel to the job showing "cancelled". */
const CANCEL_DEADLINE_MS = 1000;

test('cancel takes effect within a second', async ({ page }) => {
  await openApp(page);
  // A run that cannot end on its own while the test watches it, on any machine.
  await startTraining(page, ENDLESS_XOR);
  await waitUntilTraining(page, 5);
  const view = jobView(page);
  // Checkpoints are written at every epoch end too, so one exists soon.
  await expect.poll(() => numAttr(view, 'data-checkpoint-step'), { timeout: 30_000 }).toBeGreaterThan(0);

  // Timestamps are taken in the page: the real click event, and the DOM showing "cancelled".
  await page.evaluate(() => {
    const w = window as unknown as { __cancelClickAt?: number; __cancelledAt?: number };
    document.addEventListener(
      'click',
      (e) => {
        if ((e.target as Element | null)?.closest('[data-testid=cancel-button]')) w.__cancelClickAt ??= e.timeStamp;
      },
      { capture: true },
    );
    const observer = new MutationObserver(() => {
      if (document.querySelector('[data-testid=job-view]')?.getAttribute('data-state') === 'cancelled') {
        w.__cancelledAt = performance.now();
        observer.disconnect();
      }
    });
    observer.observe(document.body, {
      subtree: true,
      childList: true,
      attributes: true,
      attributeFilter: ['data-state'],
    });
  });
  const checkpointBefore = await numAttr(view, 'data-checkpoint-step');
  await expect(view, 'the job is training when Cancel is pressed').toHaveAttribute('data-state', 'running');
  await view.getByTestId('cancel-button').click();
  await expect(view).toHaveAttribute('data-state', 'cancelled', { timeout: 10_000 });

  const { clickAt, cancelledAt } = await page.evaluate(() => {
    const w = window as unknown as { __cancelClickAt?: number; __cancelledAt?: number };
    return { clickAt: w.__cancelClickAt ?? null, cancelledAt: w.__cancelledAt ?? null };
  });
  expect(clickAt, 'the click on Cancel was seen').not.toBeNull();
  expect(cancelledAt, 'the job view showed "cancelled"').not.toBeNull();
  const elapsedMs = cancelledAt! - clickAt!;
  console.log(`cancel took ${elapsedMs.toFixed(0)} ms`);
  expect(elapsedMs).toBeLessThan(CANCEL_DEADLINE_MS);

  // Training really stopped: the step counter stays put for a second after "cancelled".
  const stepAtCancel = await numAttr(view, 'data-step');
  const laterSteps = await page.evaluate(async (watchMs) => {
    const seen: number[] = [];
    const observer = new MutationObserver(() => {
      seen.push(Number(document.querySelector('[data-testid=job-view]')?.getAttribute('data-step')));
    });
    observer.observe(document.body, { subtree: true, attributes: true, attributeFilter: ['data-step'] });
    await new Promise((r) => setTimeout(r, watchMs));
    observer.disconnect();
    return seen;
  }, 1000);
  expect(laterSteps.filter((s) => s > stepAtCancel), 'steps shown after "cancelled"').toEqual([]);

  // The job keeps its checkpoint, also after a reload.
  expect(await numAttr(view, 'data-checkpoint-step')).toBeGreaterThanOrEqual(checkpointBefore);
  const checkpointAtCancel = await numAttr(view, 'data-checkpoint-step');
  const jobId = (await view.getAttribute('data-job-id'))!;
  await page.reload();
  await selectJob(page, jobId);
  await expect(view).toHaveAttribute('data-state', 'cancelled');
  expect(await numAttr(view, 'data-checkpoint-step')).toBe(checkpointAtCancel);
});
