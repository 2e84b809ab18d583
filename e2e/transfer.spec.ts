// Export and import across programs and browsers: an exported model loads in Node's TensorFlow.js
// and predicts what the app predicts; a package moved to a fresh browser resumes and ends with the
// same weights as a run that was never interrupted (cpu backend: deterministic).
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { expect, test, type Browser, type Page } from '@playwright/test';
import * as tf from '@tensorflow/tfjs';
import { jobView, numAttr, openApp, predictWithForm, startTraining, waitForState } from './helpers';
import { byName, exportFiles, importThroughInput, tempDir, type SavedFile } from './fixtures/transfer';

/** Rows typed into the predict box: the XOR corners, the centre and a point outside the square. */
const ROWS = [
  [0.05, 0.95],
  [0.9, 0.1],
  [0, 0],
  [1, 1],
  [0.5, 0.5],
  [1.4, -0.3],
];
const TOLERANCE = 1e-5;

/** Loads model.json from disk the way a program would: the weight files it names, from its folder. */
function fileHandler(modelJsonPath: string): tf.io.IOHandler {
  return {
    load: () => {
      const json = JSON.parse(readFileSync(modelJsonPath, 'utf8')) as tf.io.ModelJSON;
      return tf.io.getModelArtifactsForJSON(json, async (manifest) => {
        const specs = manifest.flatMap((group) => group.weights);
        const buffers = manifest.flatMap((group) => group.paths.map((p) => readFileSync(join(dirname(modelJsonPath), p))));
        const all = Buffer.concat(buffers);
        return [specs, all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength)];
      });
    },
  };
}

async function trainXorToEnd(page: Page, epochs: number): Promise<string> {
  const jobId = await startTraining(page, { dataset: 'sample:xor', epochs });
  await waitForState(page, 'completed', 120_000);
  return jobId;
}

test('export a model, load it in Node with tf.loadLayersModel from the exported files, and get the app’s predictions', async ({ page }) => {
  test.setTimeout(180_000);
  await openApp(page, { backend: 'cpu' });
  await trainXorToEnd(page, 20);

  const dir = tempDir('model');
  const files = await exportFiles(page, 'export-model-files', 2, dir);
  const modelJson = byName(files, /^model\.json$/);
  byName(files, /\.bin$/);

  // The app's own predictions, from the worker, through the job view's prediction form, row by row.
  const appOutputs: number[][] = [];
  for (const [x, y] of ROWS) appOutputs.push(await predictWithForm(page, { x: String(x), y: String(y) }));
  expect(appOutputs).toHaveLength(ROWS.length);

  // Another program: Node's TensorFlow.js, given only the exported files.
  await tf.setBackend('cpu');
  const model = await tf.loadLayersModel(fileHandler(modelJson.path));
  const lathe = (model.getUserDefinedMetadata() as { lathe?: { normalization: { mean: number[]; std: number[] } | null; labels: string[] } }).lathe;
  expect(lathe, 'model.json carries the Lathe metadata').toBeDefined();
  expect(lathe!.labels).toEqual(['0', '1']);
  const norm = lathe!.normalization!;
  // Lathe keeps table values as float32, so it rounds them before normalizing.
  const normalized = ROWS.map((row) => row.map((x, i) => (Math.fround(x) - norm.mean[i]!) / norm.std[i]!));
  const result = tf.tidy(() => model.predict(tf.tensor2d(normalized)) as tf.Tensor);
  const nodeOutputs = (await result.array()) as number[][];
  result.dispose();
  model.dispose();

  console.log(`app ${JSON.stringify(appOutputs[0])}, node ${JSON.stringify(nodeOutputs[0])}`);
  for (let r = 0; r < ROWS.length; r++)
    for (let k = 0; k < appOutputs[r]!.length; k++)
      expect(Math.abs(nodeOutputs[r]![k]! - appOutputs[r]![k]!), `row ${r}, output ${k}`).toBeLessThanOrEqual(TOLERANCE);

  // Share: headless Chromium cannot share a .lathe file, so it offers download and copy, in words.
  await jobView(page).getByTestId('share-button').click();
  const fallback = jobView(page).getByTestId('share-fallback');
  await expect(fallback).toBeVisible({ timeout: 30_000 });
  const shared = await exportFiles(page, 'share-download', 1, dir);
  expect(shared[0]!.name).toMatch(/\.lathe$/);
  await fallback.getByTestId('share-copy').click();
  await expect(jobView(page).getByTestId('share-status')).toHaveText(/Copied|Could not copy/);
  await expect(jobView(page).getByTestId('export-error')).toHaveCount(0);
});

/** XOR for this many epochs (6 steps each) on cpu, paused by a breakpoint at PAUSE_STEP. */
const PACKAGE_EPOCHS = 120;
const PAUSE_STEP = 301;

async function freshPage(browser: Browser): Promise<Page> {
  const context = await browser.newContext({ acceptDownloads: true });
  const page = await context.newPage();
  await openApp(page, { backend: 'cpu' });
  return page;
}

async function exportWeights(page: Page, label: string): Promise<SavedFile> {
  return byName(await exportFiles(page, 'export-model-files', 2, tempDir(label)), /\.bin$/);
}

test('a package exported from one browser context and imported into a fresh one resumes and ends with the same weights as an uninterrupted run', async ({ browser }) => {
  test.setTimeout(240_000);

  // A: train until the breakpoint pauses it mid-epoch, then export the package with its dataset.
  const a = await freshPage(browser);
  await startTraining(a, { dataset: 'sample:xor', epochs: PACKAGE_EPOCHS, pauseAt: { kind: 'step', at: PAUSE_STEP } });
  await waitForState(a, 'paused', 120_000);
  const pausedAt = await numAttr(jobView(a), 'data-checkpoint-step');
  const total = 6 * PACKAGE_EPOCHS;
  expect(pausedAt, 'paused by the breakpoint, exactly there').toBe(PAUSE_STEP);
  await expect(jobView(a).getByTestId('export-include-dataset')).toBeChecked();
  const pkg = byName(await exportFiles(a, 'export-package', 1, tempDir('package')), /\.lathe$/);
  await a.context().close();

  // B: a fresh browser context imports it, resumes and finishes.
  const b = await freshPage(browser);
  await importThroughInput(b, [pkg.path]);
  const view = jobView(b);
  await expect(view).toHaveAttribute('data-state', 'paused', { timeout: 30_000 });
  await expect(view.locator('#job-title')).toHaveText(/\(imported\)$/);
  await expect(view).toHaveAttribute('data-checkpoint-step', String(pausedAt));
  await view.getByTestId('resume-button').click();
  await expect(view).toHaveAttribute('data-resumed-from-step', String(pausedAt), { timeout: 60_000 });
  await waitForState(b, 'completed', 180_000);
  await expect(view).toHaveAttribute('data-step', String(total));
  const resumed = await exportWeights(b, 'resumed');
  await b.context().close();

  // C: the same run without interruption.
  const c = await freshPage(browser);
  await startTraining(c, { dataset: 'sample:xor', epochs: PACKAGE_EPOCHS });
  await waitForState(c, 'completed', 180_000);
  const straight = await exportWeights(c, 'straight');
  await c.context().close();

  console.log(`paused at step ${pausedAt} of ${total}; weights ${resumed.bytes.length} bytes`);
  expect(resumed.bytes.length).toBe(straight.bytes.length);
  expect(resumed.bytes.equals(straight.bytes), 'the resumed run ends with the same weights, byte for byte').toBe(true);
});

test('a package without its dataset imports with the built-in sample, and an imported model predicts like the app and fine-tunes', async ({ browser }) => {
  test.setTimeout(240_000);
  const a = await freshPage(browser);
  await startTraining(a, { dataset: 'sample:xor', epochs: 5 });
  await waitForState(a, 'completed', 60_000);
  await jobView(a).getByTestId('export-include-dataset').uncheck();
  const pkg = byName(await exportFiles(a, 'export-package', 1, tempDir('nodata')), /\.lathe$/);
  const zip = byName(await exportFiles(a, 'export-model-zip', 1, tempDir('zip')), /\.zip$/);
  await a.context().close();

  // A fresh browser has no XOR data stored: Lathe supplies its built-in sample and retries.
  const b = await freshPage(browser);
  await importThroughInput(b, [pkg.path]);
  // The sample is made by Lathe itself, unless the page stored it already (it loads XOR at start).
  await expect(b.getByTestId('import-status')).toContainText(/with the built-in sample dataset|with its dataset, which was already stored/, { timeout: 30_000 });
  const view = jobView(b);
  await expect(view).toHaveAttribute('data-state', 'completed');
  await expect(view.locator('#job-title')).toHaveText(/\(imported\)$/);
  await expect(b.getByTestId('import-error')).toHaveCount(0);

  // The same model as a zip: the imported-model panel predicts what the imported job predicts.
  const fromJob = [await predictWithForm(b, { x: '0.1', y: '0.9' }), await predictWithForm(b, { x: '0.9', y: '0.9' })];
  await importThroughInput(b, [zip.path]);
  const panel = b.getByTestId('imported-model');
  await expect(panel).toBeVisible({ timeout: 30_000 });
  await expect(panel.getByTestId('imported-model-summary')).toContainText('2 inputs');
  await panel.getByTestId('imported-predict-input').fill('0.1, 0.9\n0.9, 0.9');
  await panel.getByTestId('imported-predict-button').click();
  const modelOut = panel.getByTestId('imported-predict-output');
  await expect(modelOut).toBeVisible({ timeout: 30_000 });
  const fromModel = JSON.parse((await modelOut.getAttribute('data-outputs'))!) as number[][];
  fromJob.flat().forEach((v, i) => expect(Math.abs(v - fromModel.flat()[i]!)).toBeLessThanOrEqual(TOLERANCE));

  // Fine-tuning on the chosen dataset (XOR) queues a new job that trains to the end.
  const before = await b.getByTestId('job-row').count();
  await panel.getByTestId('fine-tune-button').click();
  await expect(b.getByTestId('job-row')).toHaveCount(before + 1, { timeout: 30_000 });
  await expect(view.locator('#job-title')).toHaveText(/fine-tuned on XOR$/);
  await waitForState(b, 'completed', 120_000);
  await b.context().close();
});

test('files dropped on the page and files handed over by the share target are imported as one batch', async ({ browser }) => {
  test.setTimeout(180_000);
  const a = await freshPage(browser);
  await startTraining(a, { dataset: 'sample:xor', epochs: 3 });
  await waitForState(a, 'completed', 60_000);
  const dir = tempDir('drop');
  const model = await exportFiles(a, 'export-model-files', 2, dir);
  const pkg = byName(await exportFiles(a, 'export-package', 1, dir), /\.lathe$/);
  await a.context().close();

  const b = await freshPage(browser);
  // Drag-and-drop: model.json and its weights together, as a user drops two selected files.
  const files = model.map((f) => ({ name: f.name, b64: f.bytes.toString('base64') }));
  const dataTransfer = await b.evaluateHandle((list) => {
    const dt = new DataTransfer();
    for (const f of list) dt.items.add(new File([Uint8Array.from(atob(f.b64), (c) => c.charCodeAt(0))], f.name));
    return dt;
  }, files);
  await b.dispatchEvent('body', 'dragenter', { dataTransfer });
  await expect(b.getByTestId('import-drop-zone')).toBeVisible();
  await b.dispatchEvent('body', 'drop', { dataTransfer });
  await expect(b.getByTestId('import-drop-zone')).toHaveCount(0);
  await expect(b.getByTestId('imported-model')).toBeVisible({ timeout: 30_000 });

  // Share target: the service worker leaves the files in Cache Storage and opens /?shared=1.
  await b.evaluate(async (f) => {
    const cache = await caches.open('lathe-shared-files');
    const bytes = Uint8Array.from(atob(f.b64), (c) => c.charCodeAt(0));
    await cache.put(`/shared/${Date.now()}`, new Response(bytes, {
      headers: { 'X-File-Name': encodeURIComponent(f.name), 'Content-Type': 'application/x-lathe-package' },
    }));
  }, { name: pkg.name, b64: pkg.bytes.toString('base64') });
  await b.goto('/?backend=cpu&shared=1');
  await expect(jobView(b).locator('#job-title')).toHaveText(/\(imported\)$/, { timeout: 30_000 });
  await expect(b.getByTestId('import-error')).toHaveCount(0);
  expect(new URL(b.url()).searchParams.get('shared')).toBeNull();
  expect(new URL(b.url()).searchParams.get('backend')).toBe('cpu');
  expect(await b.evaluate(async () => (await (await caches.open('lathe-shared-files')).keys()).length)).toBe(0);
  await b.context().close();
});
