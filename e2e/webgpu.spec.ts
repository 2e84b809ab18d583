// Training on WebGPU (here the SwiftShader software adapter, so the dataset stays tiny).
import { expect, test } from '@playwright/test';
import { BACKEND_READY_TIMEOUT_MS, jobView, numAttr, openApp, startTraining, waitForState } from './helpers';

test('xor trains to accuracy 1.0 on webgpu and the header says webgpu', async ({ page }) => {
  // SwiftShader runs WebGPU on the CPU at about 3 steps/s here, so the run is kept short: 15
  // epochs of 6 steps reach accuracy 1.0 (XOR converges in about 30 steps with the sample config).
  test.setTimeout(240_000);
  await openApp(page, { backend: 'webgpu' });
  await startTraining(page, { dataset: 'sample:xor', epochs: 15 });

  await expect(page.getByTestId('backend-name')).toHaveText('webgpu', { timeout: BACKEND_READY_TIMEOUT_MS });
  await waitForState(page, 'completed', 200_000);

  const view = jobView(page);
  expect(await numAttr(view, 'data-acc'), 'training accuracy at the end').toBe(1);
  await expect(page.getByTestId('backend-name')).toHaveText('webgpu');
});
