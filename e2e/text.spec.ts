// Text: a pasted text trains a recurrent character model, and the job writes text before it trains
// (initial weights), while it trains (from the live weights, between steps, with the job moving on),
// and after a few epochs; a reload resumes it exactly (the same text and figures as a run that was
// never interrupted), and its exported model gives the app's next-character probabilities in Node.
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { expect, test, type Locator, type Page } from '@playwright/test';
import { ENDLESS_XOR, jobView, numAttr, openApp, selectJob, startTraining, waitForState, WORKER_READY_TIMEOUT_MS } from './helpers';
import { byName, exportFiles, importThroughInput, tempDir } from './fixtures/transfer';

/** 3,000 characters of the sample: 2,700 train (269 windows of 10: 9 steps of 32), 300 validate. */
const TEXT = readFileSync(new URL('../public/samples/moby-dick-ch1-30.txt', import.meta.url), 'utf8').slice(0, 3000);
const STEPS_PER_EPOCH = 9;
const PROMPT = 'Call me Ishmael';
/** Generation waits on the worker (a first call loads tfjs, and a paused job's backend); in ms. */
const GENERATE_TIMEOUT_MS = 60_000;

async function fill(page: Page, testId: string, value: number | string): Promise<void> {
  const input = page.getByTestId(testId);
  await input.fill(String(value));
  await input.blur();
}

/** Pastes the text as a dataset and sets up a small LSTM that cannot finish on its own (1,000 epochs). */
async function pasteAndSetUp(page: Page, name: string): Promise<string> {
  await page.getByTestId('text-input').locator('summary').click();
  await page.getByTestId('text-paste').fill(TEXT);
  await page.getByTestId('text-paste-name').fill(name);
  await page.getByTestId('text-paste-add').click();
  const facts = page.getByTestId('text-facts');
  await expect(facts).toHaveAttribute('data-characters', '3000', { timeout: WORKER_READY_TIMEOUT_MS });
  await expect(facts).toHaveAttribute('data-distinct', String(new Set(TEXT).size));
  await expect(page.getByTestId('text-preview')).toContainText('Call me Ishmael.');
  await setUpModel(page);
  return page.getByTestId('dataset-select').inputValue();
}

/** Small, so the cpu backend takes a step in about 0.1 s even on a busy 2-core machine. */
async function setUpModel(page: Page): Promise<void> {
  await fill(page, 'rnn-units', 16);
  await fill(page, 'rnn-embedding', 8);
  await fill(page, 'rnn-sequence', 10);
}

interface Generated {
  text: string;
  weights: string;
  stepStart: number;
  stepEnd: number;
}

/** Presses Generate (in the job view, or another panel) with the prompt and seed 1 and waits for the whole text. */
async function generate(page: Page, length = 60, view: Locator = jobView(page)): Promise<Generated> {
  await view.getByTestId('generate-length').fill(String(length));
  await view.getByTestId('generate-prompt').fill(PROMPT);
  await view.getByTestId('generate-seed').fill('1');
  const panel = view.getByTestId('generate-panel');
  const run = Number(await panel.getAttribute('data-runs')) + 1;
  await view.getByTestId('generate-button').click();
  // Each generation's result (and the next-character list after it) carries its run number.
  await expect(panel).toHaveAttribute('data-done', String(run), { timeout: GENERATE_TIMEOUT_MS });
  const result = view.getByTestId('generate-result');
  const text = (await result.getAttribute('data-text'))!;
  expect(text).toHaveLength(length);
  await expect(view.getByTestId('generate-output')).toHaveText(PROMPT + text);
  return { text, weights: (await result.getAttribute('data-weights'))!, stepStart: await numAttr(result, 'data-step-start'), stepEnd: await numAttr(result, 'data-step-end') };
}

/** Pauses the selected running job with the Pause button (it stops within one step). */
async function pause(page: Page): Promise<number> {
  await jobView(page).getByTestId('pause-button').click();
  await waitForState(page, 'paused', 30_000);
  return numAttr(jobView(page), 'data-step');
}

async function pauseAtEpoch(page: Page, epoch: number): Promise<void> {
  const view = jobView(page);
  await view.getByTestId('job-breakpoint-kind').selectOption('epoch');
  await fill(page, 'job-breakpoint-at', epoch);
  await view.getByTestId('job-breakpoint-set').click();
  await expect(view.getByTestId('job-breakpoint')).toHaveAttribute('data-breakpoint', `epoch:${epoch}`);
  await view.getByTestId('resume-button').click();
  // Paused again, at the breakpoint (the paused state before Resume took effect does not count).
  await expect
    .poll(async () => `${await view.getAttribute('data-state')}@${await view.getAttribute('data-step')}`, { timeout: 90_000 })
    .toBe(`paused@${epoch * STEPS_PER_EPOCH}`);
}

test('a text trains, writes text before, during and after training, resumes exactly after a reload, and exports', async ({ page }) => {
  test.setTimeout(240_000);
  await openApp(page, { backend: 'cpu' });

  // Another job holds the worker, so the text job stays queued: it writes from its initial weights.
  const blocker = await startTraining(page, ENDLESS_XOR);
  const datasetId = await pasteAndSetUp(page, 'moby-e2e');
  const jobId = await startTraining(page, { dataset: datasetId, epochs: 1000, batchSize: 32 });
  await expect(jobView(page)).toHaveAttribute('data-state', 'queued');
  const initial = await generate(page);
  expect(initial.weights).toBe('initial');
  expect(initial.stepStart).toBe(0);

  await selectJob(page, blocker);
  await jobView(page).getByTestId('cancel-button').click();
  await waitForState(page, 'cancelled', 30_000);
  await selectJob(page, jobId);
  await expect(jobView(page)).toHaveAttribute('data-state', 'running', { timeout: WORKER_READY_TIMEOUT_MS });

  // While it trains (1,000 epochs: it cannot finish meanwhile), from the live weights between steps.
  const stepBefore = await numAttr(jobView(page), 'data-step');
  const during = await generate(page);
  expect(during.weights).toBe('live');
  expect(during.stepStart).toBeGreaterThanOrEqual(stepBefore);
  expect(during.stepEnd).toBeGreaterThan(during.stepStart);
  await expect.poll(() => numAttr(jobView(page), 'data-step')).toBeGreaterThanOrEqual(during.stepEnd);
  expect(during.text).not.toBe(initial.text);

  // A few epochs: paused (deterministically, within one step), then on to a breakpoint at an epoch's end.
  const paused = await pause(page);
  const epochs = Math.floor(paused / STEPS_PER_EPOCH) + 3;
  await pauseAtEpoch(page, epochs);
  const trained = await generate(page);
  expect(trained.weights).toBe('live');
  expect(trained.stepStart).toBe(epochs * STEPS_PER_EPOCH);
  const valBpc = await numAttr(jobView(page), 'data-val-bpc');
  expect(valBpc).toBeGreaterThan(0);
  // Better than a uniform guess over the text's characters.
  expect(valBpc).toBeLessThan(Math.log2(new Set(TEXT).size));

  // A reload: the checkpoint writes the same text as the live weights did, and the run resumes exactly.
  await page.reload();
  await selectJob(page, jobId);
  const fromCheckpoint = await generate(page);
  expect(fromCheckpoint.weights).toBe('checkpoint');
  expect(fromCheckpoint.text).toBe(trained.text);
  await pauseAtEpoch(page, epochs + 1);
  await expect(jobView(page)).toHaveAttribute('data-resumed-from-step', String(epochs * STEPS_PER_EPOCH));
  const resumed = await generate(page);
  const resumedLoss = await jobView(page).getAttribute('data-val-bpc');
  await expect(jobView(page).getByTestId('next-chars')).toHaveAttribute('data-prompt', PROMPT);
  const appProbabilities = JSON.parse((await jobView(page).getByTestId('next-chars').getAttribute('data-probabilities'))!) as number[];

  // The exported model in stock TF.js (Node, cpu): the app's next-character probabilities.
  const files = await exportFiles(page, 'export-model-files', 2, tempDir('text'));
  const modelJson = JSON.parse(byName(files, /model\.json$/).bytes.toString()) as tf.io.ModelJSON & { userDefinedMetadata: { lathe: { vocabulary: string[]; text: { sequenceLength: number } } } };
  const meta = modelJson.userDefinedMetadata.lathe;
  expect(meta.text.sequenceLength).toBe(10);
  const weights = byName(files, /\.bin$/).bytes;
  const model = await tf.loadLayersModel(tf.io.fromMemory({
    modelTopology: modelJson.modelTopology, weightSpecs: modelJson.weightsManifest[0]!.weights,
    weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength),
  }));
  const ids = Array.from(PROMPT).map((c) => meta.vocabulary.indexOf(c) + 1).slice(-meta.text.sequenceLength);
  const out = tf.tidy(() => (model.predict(tf.tensor2d(ids, [1, ids.length])) as tf.Tensor).slice([0, ids.length - 1, 0], [1, 1, -1]).softmax().reshape([-1]));
  const nodeProbabilities = Array.from(await out.data());
  expect(nodeProbabilities).toHaveLength(appProbabilities.length);
  nodeProbabilities.forEach((p, i) => expect(Math.abs(p - appProbabilities[i]!)).toBeLessThan(1e-4));

  // The exported files imported again: the model writes the same text as its job.
  await importThroughInput(page, files.map((f) => f.path));
  const imported = page.getByTestId('imported-model');
  await expect(imported.getByTestId('generate-panel')).toBeVisible({ timeout: WORKER_READY_TIMEOUT_MS });
  const fromImport = await generate(page, 60, imported);
  expect(fromImport.weights).toBe('imported');
  expect(fromImport.text).toBe(resumed.text);
  await imported.getByTestId('imported-model-close').click();

  // A run never paused, reloaded or asked for text reaches the same point with the same weights.
  await page.getByTestId('dataset-select').selectOption(datasetId);
  await expect(page.getByTestId('text-facts')).toHaveAttribute('data-characters', '3000');
  await setUpModel(page);
  const reference = await startTraining(page, { dataset: datasetId, epochs: 1000, batchSize: 32, pauseAt: { kind: 'epoch', at: epochs + 1 } });
  await waitForState(page, 'paused', 120_000);
  await expect(jobView(page)).toHaveAttribute('data-job-id', reference);
  expect(await jobView(page).getAttribute('data-val-bpc')).toBe(resumedLoss);
  expect((await generate(page)).text).toBe(resumed.text);
});

test('Stop ends a generation early, and bad text files get a clear message', async ({ page }) => {
  test.setTimeout(120_000);
  await openApp(page, { backend: 'cpu' });
  const datasetId = await pasteAndSetUp(page, 'moby-stop');
  await startTraining(page, { dataset: datasetId, epochs: 1000, batchSize: 32, pauseAt: { kind: 'step', at: 2 } });
  await waitForState(page, 'paused', 60_000);
  const view = jobView(page);
  await fill(page, 'generate-length', 5000);
  await view.getByTestId('generate-button').click();
  await expect(view.getByTestId('generate-output')).toHaveAttribute('data-running', 'true');
  await view.getByTestId('generate-stop').click();
  await expect(view.getByTestId('generate-result')).toHaveAttribute('data-stopped', 'true', { timeout: GENERATE_TIMEOUT_MS });
  expect(((await view.getByTestId('generate-result').getAttribute('data-text')) ?? '').length).toBeLessThan(5000);

  // A prompt with characters the text lacks generates anyway and names them.
  await fill(page, 'generate-length', 10);
  await view.getByTestId('generate-prompt').fill('Zoë 😀');
  await view.getByTestId('generate-button').click();
  await expect(view.getByTestId('generate-replaced')).toContainText('“😀”', { timeout: GENERATE_TIMEOUT_MS });

  const before = await page.getByTestId('dataset-select').locator('option').count();
  await page.getByTestId('text-file-input').setInputFiles({ name: 'photo.txt', mimeType: 'text/plain', buffer: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 1]) });
  await expect(page.getByTestId('text-error')).toContainText('PNG image');
  await page.getByTestId('text-file-input').setInputFiles({ name: 'empty.txt', mimeType: 'text/plain', buffer: Buffer.alloc(0) });
  await expect(page.getByTestId('text-error')).toContainText('empty');
  expect(await page.getByTestId('dataset-select').locator('option').count()).toBe(before);
});

test('the Moby-Dick sample trains in one click with the LSTM preset', async ({ page }) => {
  // Not to the end: a step of the preset (128 LSTM units over 40 characters, 32 windows) takes
  // seconds on the cpu backend of a busy machine. It pauses itself at step 2; the run's quality is a bench figure.
  test.setTimeout(120_000);
  await openApp(page, { backend: 'cpu' });
  await page.getByTestId('dataset-select').selectOption('sample:moby-dick');
  const facts = page.getByTestId('text-facts');
  await expect(facts).toHaveAttribute('data-characters', '263316', { timeout: WORKER_READY_TIMEOUT_MS });
  await expect(facts).toHaveAttribute('data-distinct', '78');
  await expect(page.getByTestId('text-preview')).toContainText('CHAPTER 1. Loomings.');
  await expect(page.getByTestId('text-architecture')).toHaveValue('lstm');
  await expect(page.getByTestId('rnn-units')).toHaveValue('128');
  await expect(page.getByTestId('rnn-sequence')).toHaveValue('40');
  await startTraining(page, { dataset: 'sample:moby-dick', pauseAt: { kind: 'step', at: 2 } });
  await waitForState(page, 'paused', 100_000);
  await expect(jobView(page)).toHaveAttribute('data-step', '2');
  // Two Adam steps already beat a uniform guess over the 79 tokens (log2 79 = 6.3 bits).
  expect(await numAttr(jobView(page), 'data-bpc')).toBeLessThan(Math.log2(79));
});
