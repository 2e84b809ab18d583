// Two devices (two browser contexts) and the real sync server over loopback: B sees A's jobs live
// and cancels one; a server restart mid-run and an offline spell lose nothing, and the server holds
// every state change of A's job exactly once, in order.
import { expect, test, type Browser, type Page } from '@playwright/test';
import { ENDLESS_XOR, jobView, numAttr, startTraining, waitForState } from './helpers';
import { SYNC_TOKEN, syncServer } from './fixtures/sync-server';

const server = syncServer(Number(process.env.LATHE_SYNC_E2E_PORT ?? 4180));

test.beforeAll(async () => {
  await server.start();
});
test.afterAll(async () => {
  await server.stop();
});

async function device(browser: Browser): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  await page.goto(`${server.origin}/?backend=cpu`);
  await expect(page.getByTestId('dataset-select')).toBeVisible();
  await page.getByTestId('sync-token').fill(SYNC_TOKEN);
  await page.getByTestId('sync-enable').click();
  await expect(page.getByTestId('sync-status')).toHaveAttribute('data-status', 'connected', { timeout: 15_000 });
  return page;
}

function remoteRow(page: Page, jobId: string) {
  return page.locator(`[data-testid=remote-job-row][data-job-id="${jobId}"]`);
}

/** The job's state changes as the server recorded them, in event order. */
async function serverStates(jobId: string, last: string): Promise<string[]> {
  const events = await server.events((e) => e.event === 'job_status_changed' && e.data.job_id === jobId && e.data.state === last);
  return events.filter((e) => e.event === 'job_status_changed' && e.data.job_id === jobId).map((e) => String(e.data.state));
}

test('device B sees device A’s job live and cancels A’s running job, which stops within a second', async ({ browser }) => {
  test.setTimeout(120_000);
  const a = await device(browser);
  const b = await device(browser);

  // A job that stops by itself at a breakpoint: B sees it paused part-way, then completed.
  const first = await startTraining(a, { dataset: 'sample:xor', epochs: 30, pauseAt: { kind: 'step', at: 90 } });
  await waitForState(a, 'paused', 60_000);
  await expect(remoteRow(b, first)).toHaveAttribute('data-state', 'paused', { timeout: 15_000 });
  // job_progress is throttled to one per second per job and may follow the state change.
  await expect.poll(() => numAttr(remoteRow(b, first), 'data-percent'), { timeout: 15_000 }).toBeGreaterThan(0);
  await jobView(a).getByTestId('resume-button').click();
  await waitForState(a, 'completed', 60_000);
  await expect(remoteRow(b, first)).toHaveAttribute('data-state', 'completed', { timeout: 15_000 });

  // A job that cannot end by itself: B cancels it from the other device.
  const second = await startTraining(a, ENDLESS_XOR);
  await expect(remoteRow(b, second)).toHaveAttribute('data-state', 'running', { timeout: 15_000 });
  await a.evaluate(() => {
    const w = window as unknown as { __cancelledAt?: number };
    new MutationObserver(() => {
      if (document.querySelector('[data-testid=job-view]')?.getAttribute('data-state') === 'cancelled') w.__cancelledAt ??= Date.now();
    }).observe(document.body, { subtree: true, attributes: true, attributeFilter: ['data-state'] });
  });
  await remoteRow(b, second).locator('button').click();
  // The click's own time, taken in B's page as it happens.
  await b.evaluate(() => {
    const w = window as unknown as { __clickedAt?: number };
    document.addEventListener('click', (e) => {
      if ((e.target as Element | null)?.closest('[data-testid=remote-cancel-button]')) w.__clickedAt ??= Date.now();
    }, { capture: true });
  });
  await b.getByTestId('remote-cancel-button').click();
  await waitForState(a, 'cancelled', 10_000);
  const cancelledAt = await a.evaluate(() => (window as unknown as { __cancelledAt?: number }).__cancelledAt ?? null);
  const clickedAt = await b.evaluate(() => (window as unknown as { __clickedAt?: number }).__clickedAt ?? null);
  expect(cancelledAt).not.toBeNull();
  expect(clickedAt).not.toBeNull();
  console.log(`remote cancel: ${cancelledAt! - clickedAt!} ms from B's click to A showing cancelled`);
  expect(cancelledAt! - clickedAt!).toBeLessThan(1000);
  await expect(remoteRow(b, second)).toHaveAttribute('data-state', 'cancelled', { timeout: 15_000 });
});

test('a server stopped mid-run and started again, and a device offline for a while, lose no state change', async ({ browser }) => {
  test.setTimeout(150_000);
  const a = await device(browser);
  const jobId = await startTraining(a, { dataset: 'sample:xor', epochs: 40, pauseAt: { kind: 'step', at: 60 } });
  await waitForState(a, 'paused', 60_000);
  await expect(a.getByTestId('sync-status')).toHaveAttribute('data-waiting', '0', { timeout: 15_000 });

  // The server goes away; A trains on to the end and keeps its changes.
  await server.stop();
  await jobView(a).getByTestId('resume-button').click();
  await waitForState(a, 'completed', 60_000);
  await expect(a.getByTestId('sync-status')).toHaveAttribute('data-status', 'offline', { timeout: 30_000 });
  expect(await numAttr(a.getByTestId('sync-status'), 'data-waiting')).toBeGreaterThan(0);
  await server.start();
  await expect(a.getByTestId('sync-status')).toHaveAttribute('data-waiting', '0', { timeout: 45_000 });
  expect(await serverStates(jobId, 'completed')).toEqual(['queued', 'running', 'paused', 'running', 'completed']);

  // A goes offline, trains a whole job, and comes back.
  await a.context().setOffline(true);
  const offlineJob = await startTraining(a, { dataset: 'sample:xor', epochs: 10 });
  await waitForState(a, 'completed', 60_000);
  await a.context().setOffline(false);
  await expect(a.getByTestId('sync-status')).toHaveAttribute('data-waiting', '0', { timeout: 45_000 });
  expect(await serverStates(offlineJob, 'completed')).toEqual(['queued', 'running', 'completed']);
});
