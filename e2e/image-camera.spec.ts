// The camera, with Chromium's fake device (a synthetic moving picture) and its permission prompt
// accepted: two classes recorded by holding their buttons become a dataset, transfer learning
// trains on them (the MobileNetV2 base served with the app), and the class probabilities update
// live from the camera while the job trains.
import { expect, test, type Page } from '@playwright/test';
import config from '../playwright.config';
import { jobView, numAttr, openApp, waitForState } from './helpers';

/** The project's browser, with the fake camera; its other flags kept. */
const launchOptions = config.projects?.[0]?.use?.launchOptions ?? {};
test.use({ launchOptions: { ...launchOptions, args: [...(launchOptions.args ?? []), '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'] } });

/** Worker start, the probe and the base's features on a slow shared machine; in ms. */
const TRAIN_TIMEOUT_MS = 90_000;

async function fill(page: Page, testId: string, value: number): Promise<void> {
  const input = page.getByTestId(testId);
  await input.fill(String(value));
  await input.blur();
}

/** Holds a class's record button until it has `frames` frames. */
async function record(page: Page, index: number, frames: number): Promise<void> {
  const row = page.getByTestId('image-class').nth(index);
  await row.getByTestId('image-record').hover();
  await page.mouse.down();
  await expect.poll(() => numAttr(row, 'data-count'), { timeout: 30_000 }).toBeGreaterThanOrEqual(frames);
  await page.mouse.up();
  await expect(row.getByTestId('image-record')).toHaveText('Hold to record');
}

test('two classes recorded with the camera train with transfer learning, and predictions update live while the job trains', async ({ page }) => {
  test.setTimeout(120_000);
  await openApp(page);
  await page.getByTestId('image-collection').locator('summary').click();
  await page.getByTestId('camera-start').click();
  await expect(page.getByTestId('camera-stop')).toBeVisible();
  await record(page, 0, 6);
  await record(page, 1, 6);
  await page.getByTestId('image-save').click();
  await expect(page.getByTestId('image-status')).toContainText('Added “My images”', { timeout: 30_000 });
  await expect(page.getByTestId('image-classes')).toHaveAttribute('data-classes', '2');
  await page.getByTestId('camera-stop').click();

  await page.getByTestId('model-kind').selectOption('transfer');
  // Endless: 12 one-image steps an epoch for 100,000 epochs; the test cancels it.
  await fill(page, 'epochs', 100_000);
  await fill(page, 'batch-size', 1);
  await page.getByTestId('train-button').click();
  await waitForState(page, 'running', TRAIN_TIMEOUT_MS);
  await expect.poll(() => numAttr(jobView(page), 'data-step'), { timeout: TRAIN_TIMEOUT_MS }).toBeGreaterThan(0);
  await jobView(page).getByTestId('image-live-start').click();
  const output = jobView(page).getByTestId('image-predict-output');
  // The first answer loads the base on the training backend; later ones reuse it.
  await expect(output).toBeVisible({ timeout: TRAIN_TIMEOUT_MS });
  await expect.poll(() => numAttr(output, 'data-updates'), { timeout: 30_000 }).toBeGreaterThanOrEqual(3);
  await expect(output).toHaveAttribute('data-source', 'camera');
  await expect(jobView(page)).toHaveAttribute('data-state', 'running');
  const bars = output.getByTestId('image-predict-bar');
  await expect(bars).toHaveCount(2);
  await jobView(page).getByTestId('image-live-stop').click();
  await jobView(page).getByTestId('cancel-button').click();
  await waitForState(page, 'cancelled', 30_000);
});
