// Text in the real worker API (Node, cpu backend, fake-indexeddb): a text becomes a dataset, a
// recurrent model trains on seeded windows and resumes bit-identically, and generation is seeded,
// greedy at temperature 0, and runs between training steps without changing the job's weights.
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import type { TrainConfig } from '../../shared/config';
import { listDatasets } from '../../shared/db';
import type { JobRecord } from '../../shared/jobs';
import { SeededRng } from '../../shared/rng';
import type { GenerateResult } from '../../shared/text-generation';
import type { LatheModelMetadata } from '../../shared/package-format';
import { buildModel } from '../../workers/model';
import { CharStepper } from '../../workers/text/char-stepper';
import { contextAfter, nextLogits } from '../../workers/text/generate';
import { TextSource } from '../../workers/text/text-source';
import { submitText, TEXT, TEXT_CONFIG, trainTextToEnd } from '../fixtures/text-job';
import { expectBitIdentical, finalWeights, freshDbName, makeHarness, type Harness } from './harness';

const CONFIG = TEXT_CONFIG;
const REQUEST = { prompt: 'Call me ', length: 40, temperature: 0.9, topK: 0, seed: 11 };
const trainToEnd = trainTextToEnd;

let reference: Float32Array;
let referenceJob: JobRecord;
let referenceHarness: Harness;
beforeAll(async () => {
  await tf.setBackend('cpu');
  referenceHarness = await makeHarness(freshDbName());
  referenceJob = await trainToEnd(referenceHarness);
  reference = await finalWeights(referenceHarness.db, referenceJob.id);
}, 120_000);

describe('text windows', () => {
  const dataset = { text: TEXT, vocabulary: [...new Set(Array.from(TEXT))].sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!), name: 'moby' };

  it('an epoch draws the same windows from the same RNG state, other windows from another', () => {
    const a = new TextSource(dataset, CONFIG);
    const b = new TextSource(dataset, CONFIG);
    a.beginEpoch(SeededRng.fromSeed(1));
    b.beginEpoch(SeededRng.fromSeed(1));
    expect(Array.from(a.windowStarts)).toEqual(Array.from(b.windowStarts));
    b.beginEpoch(SeededRng.fromSeed(2));
    expect(Array.from(a.windowStarts)).not.toEqual(Array.from(b.windowStarts));
  });

  it('training windows never reach into the held-out last 10%', () => {
    const s = new TextSource(dataset, CONFIG);
    s.beginEpoch(SeededRng.fromSeed(3));
    const trainChars = TEXT.length - Math.floor(TEXT.length * 0.1);
    expect(Math.max(...s.windowStarts) + 16).toBeLessThan(trainChars);
    expect(s.numVal).toBe(Math.floor((Math.floor(TEXT.length * 0.1) - 1) / 16));
  });
});

describe('a text job', () => {
  it('reports loss and bits per character, training and validation, per epoch', () => {
    const epochs = referenceJob.history.filter((p) => p.kind === 'epoch');
    expect(epochs).toHaveLength(2);
    for (const p of epochs) {
      expect(p.metrics.bpc).toBeCloseTo(p.loss / Math.LN2, 5);
      expect(p.metrics.val_bpc).toBeGreaterThan(0);
      expect(p.metrics.val_loss).toBeGreaterThan(0);
    }
    // The model learns: the second epoch's validation is better than a uniform guess over the vocabulary.
    expect(epochs[1]!.metrics.val_bpc).toBeLessThan(Math.log2(60));
  });

  it('a pause and a reload (a fresh worker) resume bit-identically', async () => {
    const name = freshDbName();
    const stopAt = 5 + Math.floor(Math.random() * 15);
    let pausing: Promise<JobRecord> | null = null;
    const first = await makeHarness(name, { checkpointIntervalSec: 0 }, (e, api) => {
      if (!pausing && e.type === 'job' && (e.job.checkpointStep ?? 0) >= stopAt) pausing = api.pause(e.job.id);
    });
    const job = await submitText(first);
    await first.api.start(job.id);
    await first.waitForState(job.id, ['paused']);
    const paused = await (pausing as unknown as Promise<JobRecord>);
    const second = await makeHarness(name);
    expect((await second.api.start(job.id)).resumedFromStep).toBe(paused.checkpointStep);
    await second.waitForState(job.id, ['completed']);
    expectBitIdentical(await finalWeights(second.db, job.id), reference);
  }, 120_000);

  it('another seed trains other weights (so the comparisons can fail)', async () => {
    const h = await makeHarness(freshDbName());
    const job = await trainToEnd(h, { ...CONFIG, seed: 6 });
    const other = await finalWeights(h.db, job.id);
    expect(Buffer.from(other.buffer).equals(Buffer.from(reference.buffer))).toBe(false);
  }, 120_000);
});

describe('generation', () => {
  it('the same seed writes the same text twice; another seed writes another', async () => {
    const { api } = referenceHarness;
    const streamed: string[] = [];
    const a = await api.generateText(referenceJob.id, REQUEST, (c) => streamed.push(c));
    const b = await api.generateText(referenceJob.id, REQUEST);
    const c = await api.generateText(referenceJob.id, { ...REQUEST, seed: 12 });
    expect(a.text).toHaveLength(40);
    expect(a.weights).toBe('checkpoint');
    expect(streamed.join('')).toBe(a.text);
    expect(b.text).toBe(a.text);
    expect(c.text).not.toBe(a.text);
  });

  it('temperature 0 is greedy: each character is the most likely one after the context it was generated from, whatever the seed', async () => {
    const { api } = referenceHarness;
    // Past 16 characters (the windows' length) the context restarts from the latest 8 (contextAfter).
    const greedy = { ...REQUEST, temperature: 0, length: 20 };
    const a = await api.generateText(referenceJob.id, greedy);
    expect((await api.generateText(referenceJob.id, { ...greedy, seed: 99 })).text).toBe(a.text);
    let text = greedy.prompt;
    let held = Math.min(text.length, 16);
    for (const c of a.text) {
      const next = await api.nextCharacters(referenceJob.id, text.slice(text.length - held));
      const best = next.probabilities.indexOf(Math.max(...next.probabilities.slice(1)));
      expect(next.characters[best]).toBe(c);
      text += c;
      held = contextAfter(held, 16);
    }
  });

  it('one character at a time through the layers gives the logits of a whole window, for LSTM and GRU', async () => {
    for (const cell of ['lstm', 'gru'] as const) {
      const config: TrainConfig = { ...CONFIG, model: { ...CONFIG.model, cell, layers: 2 } as TrainConfig['model'] };
      const model = buildModel(config, { numFeatures: 16, numOutputs: 30, inputShape: [16] });
      const stepper = CharStepper.for(model)!;
      const ids = Array.from({ length: 16 }, (_, i) => (i * 7) % 30);
      const windowed = await nextLogits(model, ids, 16);
      const first = stepper.feed(ids.slice(0, 9));
      first.dispose();
      const logits = stepper.feed(ids.slice(9, 10));
      logits.dispose();
      const rest = stepper.feed(ids.slice(10));
      expect(Array.from(await rest.data())).toEqual(Array.from(windowed));
      rest.dispose();
      stepper.dispose();
      model.dispose();
    }
  });

  it('a prompt with characters the text lacks generates anyway and names them', async () => {
    const r = await referenceHarness.api.generateText(referenceJob.id, { ...REQUEST, prompt: 'Call me 😀 Ishmaël' });
    expect(r.text).toHaveLength(40);
    expect(r.replaced).toEqual(['😀', 'ë']);
  });

  it('before training, it writes from the seeded initial weights', async () => {
    const h = await makeHarness(freshDbName());
    const job = await submitText(h);
    const r = await h.api.generateText(job.id, REQUEST);
    expect(r.weights).toBe('initial');
    expect(r.stepAtStart).toBe(0);
    expect((await h.api.generateText(job.id, REQUEST)).text).toBe(r.text);
  });

  it('while the job trains, it writes from the live weights between steps, the job keeps moving, and its final weights are unchanged', async () => {
    let during: Promise<GenerateResult> | null = null;
    const h = await makeHarness(freshDbName(), {}, (e, api) => {
      // Started from the first progress event: the run is in its step loop.
      if (!during && e.type === 'progress' && e.progress.state === 'running' && e.progress.step >= 1)
        during = api.generateText(e.progress.jobId, { ...REQUEST, length: 10 });
    });
    const job = await submitText(h);
    await h.api.start(job.id);
    await h.waitForState(job.id, ['completed']);
    const r = await (during as unknown as Promise<GenerateResult>);
    expect(r.text).toHaveLength(10);
    expect(r.stepAtStart).toBeGreaterThanOrEqual(1);
    // Ten characters, each followed by a yield in which the step loop runs a step.
    expect(r.stepAtEnd).toBeGreaterThan(r.stepAtStart);
    expectBitIdentical(await finalWeights(h.db, job.id), reference);
  }, 120_000);

  it('Stop ends a generation after its current character', async () => {
    const { api } = referenceHarness;
    const pending = api.generateText(referenceJob.id, { ...REQUEST, length: 2000 }, () => void api.stopGeneration());
    const r = await pending;
    expect(r.stopped).toBe(true);
    expect(r.text.length).toBeGreaterThanOrEqual(1);
    expect(r.text.length).toBeLessThan(2000);
  });
});

describe('export', () => {
  it('loads in stock tf.loadLayersModel with its vocabulary and gives the app\'s next-character probabilities', async () => {
    const exported = await referenceHarness.api.exportModel(referenceJob.id, { zip: false });
    if (exported.kind !== 'files') throw new Error('expected plain files');
    const byName = new Map(exported.files.map((f) => [f.name, f.bytes]));
    const json = JSON.parse(new TextDecoder().decode(byName.get('model.json'))) as tf.io.ModelJSON;
    const group = json.weightsManifest[0]!;
    const model = await tf.loadLayersModel(tf.io.fromMemory({
      modelTopology: json.modelTopology, weightSpecs: group.weights, weightData: byName.get(group.paths[0]!)!.slice().buffer,
    }));
    const meta = (json.userDefinedMetadata as { lathe: LatheModelMetadata }).lathe;
    expect(meta.text).toEqual({ sequenceLength: 16, unknownToken: 0 });
    const prompt = 'Call me Ishmael. Some years ago';
    // What another program does: ids from the vocabulary (unknown = 0), the last 16, softmax of the last position.
    const ids = Array.from(prompt).map((c) => meta.vocabulary!.indexOf(c) + 1).slice(-16);
    const logits = tf.tidy(() => (model.predict(tf.tensor2d(ids, [1, ids.length])) as tf.Tensor).slice([0, ids.length - 1, 0], [1, 1, -1]).softmax().reshape([-1]));
    const theirs = Array.from(await logits.data());
    logits.dispose();
    model.dispose();
    const ours = await referenceHarness.api.nextCharacters(referenceJob.id, prompt);
    expect(ours.characters).toEqual(['', ...meta.vocabulary!]);
    expect(theirs).toHaveLength(ours.probabilities.length);
    theirs.forEach((p, i) => expect(p).toBeCloseTo(ours.probabilities[i]!, 6));
  });

  it('an imported export writes the same text as its job, and names the model it came from', async () => {
    const { api } = referenceHarness;
    const exported = await api.exportModel(referenceJob.id, { zip: false });
    if (exported.kind !== 'files') throw new Error('expected plain files');
    const files = exported.files.map((f) => ({ name: f.name, bytes: f.bytes }));
    const described = await api.importFiles(files);
    expect(described.kind === 'model' && described.model.lathe?.vocabulary).toEqual(referenceJob && (await api.nextCharacters(referenceJob.id, 'C')).characters.slice(1));
    const imported = await api.generateImportedText(files, REQUEST);
    expect(imported.weights).toBe('imported');
    expect(imported.text).toBe((await api.generateText(referenceJob.id, REQUEST)).text);
  });
});

describe('bad text gets a clear message and nothing is stored', () => {
  it.each([
    ['an empty file', new Uint8Array(0), /empty/],
    ['a binary file', new Uint8Array([0x50, 0x4b, 3, 4, 0, 0, 0]), /ZIP archive/],
    ['NUL bytes', new Uint8Array([104, 105, 0, 0, 104]), /NUL bytes/],
  ])('%s', async (_what, bytes, message) => {
    const h = await makeHarness(freshDbName());
    const file = new File([bytes], 'bad.txt');
    await expect(h.api.importText({ file })).rejects.toThrow(message);
    expect(await listDatasets(h.db)).toEqual([]);
  });

  it('a text shorter than the sequence length is refused when the job is submitted', async () => {
    const h = await makeHarness(freshDbName());
    const { dataset } = await h.api.importText({ text: 'too short', name: 's' });
    await expect(h.api.submit({ name: 's', config: CONFIG, datasetId: dataset.id })).rejects.toThrow(/sequence length \(16\)/);
  });
});
