// The small causal transformer for texts in the real worker API (Node, cpu backend,
// fake-indexeddb): it trains in the same step loop as the recurrent models and resumes
// bit-identically (dropout included), writes text, knows which kernels it needs, and its export
// loads in a separate plain Node process with only @tensorflow/tfjs and the shipped lathe-layers.js.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { validateConfig, type TrainConfig } from '../../shared/config';
import type { JobRecord } from '../../shared/jobs';
import type { LatheModelMetadata } from '../../shared/package-format';
import { TEXT_TRANSFORMER_CONFIG } from '../../shared/samples';
import { defaultJobName } from '../../src/lib/job-records';
import { REQUIRED_KERNELS, registryHas } from '../../workers/backend-kernels';
import { buildModel, buildOptimizer } from '../../workers/model';
import { expectBitIdentical, finalWeights, freshDbName, makeHarness, type Harness } from './harness';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TEXT = readFileSync(join(ROOT, 'public/samples/moby-dick-ch1-30.txt'), 'utf8').slice(0, 4000);
const CONFIG: TrainConfig = {
  model: { kind: 'transformer', blocks: 2, heads: 2, dModel: 16, ffUnits: 32, dropout: 0.1, sequenceLength: 16 },
  optimizer: 'adam',
  learningRate: 0.01,
  batchSize: 16,
  epochs: 2,
  validationSplit: 0.1,
  seed: 5,
};
const REQUEST = { prompt: 'Call me ', length: 40, temperature: 0.9, topK: 0, seed: 11 };

async function submitText(h: Harness, config: TrainConfig = CONFIG): Promise<JobRecord> {
  const { dataset } = await h.api.importText({ text: TEXT, name: 'moby' });
  return h.api.submit({ name: 'attention', config, datasetId: dataset.id });
}

let reference: Float32Array;
let referenceJob: JobRecord;
let referenceHarness: Harness;
beforeAll(async () => {
  await tf.setBackend('cpu');
  referenceHarness = await makeHarness(freshDbName());
  const job = await submitText(referenceHarness);
  await referenceHarness.api.start(job.id);
  referenceJob = await referenceHarness.waitForState(job.id, ['completed', 'failed']);
  if (referenceJob.state !== 'completed') throw new Error(referenceJob.error?.message);
  reference = await finalWeights(referenceHarness.db, referenceJob.id);
}, 120_000);

describe('the transformer preset', () => {
  it('is valid, and bad blocks, heads and widths are named in words', () => {
    expect(validateConfig(TEXT_TRANSFORMER_CONFIG)).toEqual([]);
    expect(defaultJobName('Moby-Dick', TEXT_TRANSFORMER_CONFIG)).toBe('Moby-Dick · transformer 2×64 (4 heads) over 64 chars · adam');
    const bad = validateConfig({ ...CONFIG, model: { kind: 'transformer', blocks: 0, heads: 3, dModel: 16, ffUnits: 0, dropout: 0.9, sequenceLength: 600 } });
    expect(bad).toEqual([
      'Transformer blocks must be a whole number from 1 to 8.',
      'Width (16) must be a multiple of the attention heads (3): each head gets an equal share of it.',
      'Feed-forward units must be a whole number from 1 to 4096.',
      'Dropout must be from 0 to 0.5.',
      'Sequence length must be a whole number of characters from 2 to 512.',
    ]);
  });
});

describe('a transformer text job', () => {
  it('learns in the same step loop: bits per character per epoch, better than a uniform guess', () => {
    const epochs = referenceJob.history.filter((p) => p.kind === 'epoch');
    expect(epochs).toHaveLength(2);
    for (const p of epochs) expect(p.metrics.bpc).toBeCloseTo(p.loss / Math.LN2, 5);
    expect(epochs[1]!.metrics.val_bpc).toBeLessThan(Math.log2(60));
  });

  it('a pause and a reload (a fresh worker) resume bit-identically, dropout included', async () => {
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

  it('another seed trains other weights (so the comparison can fail)', async () => {
    const h = await makeHarness(freshDbName());
    const job = await submitText(h, { ...CONFIG, seed: 6 });
    await h.api.start(job.id);
    await h.waitForState(job.id, ['completed']);
    const other = await finalWeights(h.db, job.id);
    expect(Buffer.from(other.buffer).equals(Buffer.from(reference.buffer))).toBe(false);
  }, 120_000);

  it('writes text past its window (the window slides), seeded, and greedy at temperature 0', async () => {
    const { api } = referenceHarness;
    const a = await api.generateText(referenceJob.id, REQUEST);
    expect(a.text).toHaveLength(40);
    expect((await api.generateText(referenceJob.id, REQUEST)).text).toBe(a.text);
    const greedy = await api.generateText(referenceJob.id, { ...REQUEST, temperature: 0, length: 20 });
    let prompt = REQUEST.prompt;
    for (const c of greedy.text) {
      const next = await api.nextCharacters(referenceJob.id, prompt);
      expect(next.characters[next.probabilities.indexOf(Math.max(...next.probabilities.slice(1)))]).toBe(c);
      prompt += c;
    }
  });
});

describe('backends for the transformer', () => {
  it('names every kernel of a training step that some backend lacks, and only kernels the step uses', async () => {
    await import('@tensorflow/tfjs-backend-webgpu').catch(() => undefined);
    const model = buildModel(CONFIG, { numFeatures: 16, numOutputs: 30, inputShape: [16] });
    const optimizer = buildOptimizer('adam', 0.01);
    const x = tf.tensor2d(Float32Array.from({ length: 4 * 16 }, (_, i) => i % 30), [4, 16]);
    const y = tf.oneHot(tf.tensor2d(Int32Array.from({ length: 4 * 16 }, (_, i) => (i + 1) % 30), [4, 16], 'int32'), 30);
    const profile = await tf.profile(() => {
      optimizer.minimize(() => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor), false);
    });
    tf.dispose([x, y]);
    model.dispose();
    optimizer.dispose();
    // Names ending in "__op" are ops with their own gradient (customGrad), not kernels.
    const used = profile.kernelNames.filter((k) => !k.endsWith('__op'));
    const required = REQUIRED_KERNELS.transformer;
    // Backends whose kernels this process registered (WebGPU's module may not load in Node).
    const checked = (['wasm', 'webgl', 'webgpu'] as const).filter((b) => registryHas('Add', b));
    expect(checked).toEqual(expect.arrayContaining(['wasm', 'webgl']));
    for (const backend of checked) {
      const missing = used.filter((k) => !registryHas(k, backend));
      expect({ backend, unnamed: missing.filter((k) => !required.includes(k)) }).toEqual({ backend, unnamed: [] });
    }
    expect(required.filter((k) => !used.includes(k))).toEqual([]);
    expect(registryHas('UnsortedSegmentSum', 'wasm')).toBe(false);
  });
});

describe('export', () => {
  it('ships lathe-layers.js and says in its metadata how to load it; the model.json names the custom classes', async () => {
    const exported = await referenceHarness.api.exportModel(referenceJob.id, { zip: false });
    if (exported.kind !== 'files') throw new Error('expected plain files');
    const byName = new Map(exported.files.map((f) => [f.name, f.bytes]));
    expect([...byName.keys()].sort()).toEqual(['group1-shard1of1.bin', 'lathe-layers.js', 'model.json']);
    expect(new TextDecoder().decode(byName.get('lathe-layers.js'))).toBe(readFileSync(join(ROOT, 'workers/text/lathe-layers.js'), 'utf8'));
    const json = JSON.parse(new TextDecoder().decode(byName.get('model.json'))) as { modelTopology: unknown; userDefinedMetadata: { lathe: LatheModelMetadata } };
    const classes = new Set(JSON.stringify(json.modelTopology).match(/"class_name":"Lathe\w+"/g));
    expect([...classes].sort()).toEqual(['"class_name":"LatheLayerNorm"', '"class_name":"LathePositionEmbedding"', '"class_name":"LatheTransformerBlock"']);
    expect(json.userDefinedMetadata.lathe.customLayers).toMatchObject({ file: 'lathe-layers.js', classes: ['LathePositionEmbedding', 'LatheTransformerBlock', 'LatheLayerNorm'] });
    expect(json.userDefinedMetadata.lathe.customLayers?.howToLoad).toContain('registerLatheLayers(tf)');
  });

  it('loads in a plain Node process with stock tf.loadLayersModel once lathe-layers.js registers its classes, and gives the app\'s next-character probabilities', async () => {
    const exported = await referenceHarness.api.exportModel(referenceJob.id, { zip: false });
    if (exported.kind !== 'files') throw new Error('expected plain files');
    const dir = mkdtempSync(join(tmpdir(), 'lathe-export-'));
    for (const f of exported.files) writeFileSync(join(dir, f.name), f.bytes);
    const prompt = 'Call me Ishmael. Some years ago';
    // What a stock TF.js user writes: no Lathe code but the shipped file.
    const script = `
      import * as tf from '@tensorflow/tfjs';
      import { readFileSync } from 'node:fs';
      import { join } from 'node:path';
      import { pathToFileURL } from 'node:url';
      const dir = process.env.LATHE_DIR;
      await tf.setBackend('cpu');
      const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
      const bin = readFileSync(join(dir, json.weightsManifest[0].paths[0]));
      const artifacts = () => ({ modelTopology: json.modelTopology, weightSpecs: json.weightsManifest[0].weights,
        weightData: bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength) });
      let before = 'loaded';
      try { await tf.loadLayersModel(tf.io.fromMemory(artifacts())); } catch (e) { before = e.message; }
      const { registerLatheLayers } = await import(pathToFileURL(join(dir, 'lathe-layers.js')).href);
      registerLatheLayers(tf);
      const model = await tf.loadLayersModel(tf.io.fromMemory(artifacts()));
      const meta = json.userDefinedMetadata.lathe;
      const ids = Array.from(process.env.LATHE_PROMPT).map((c) => meta.vocabulary.indexOf(c) + 1).slice(-meta.text.sequenceLength);
      const p = tf.tidy(() => model.predict(tf.tensor2d(ids, [1, ids.length])).slice([0, ids.length - 1, 0], [1, 1, -1]).softmax().reshape([-1]));
      console.log('RESULT ' + JSON.stringify({ before, probabilities: Array.from(await p.data()) }));
    `;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: ROOT, env: { ...process.env, LATHE_DIR: dir, LATHE_PROMPT: prompt }, encoding: 'utf8',
    });
    const line = out.split('\n').find((l) => l.startsWith('RESULT '))!;
    const theirs = JSON.parse(line.slice('RESULT '.length)) as { before: string; probabilities: number[] };
    expect(theirs.before).toMatch(/Unknown layer: Lathe/);
    const ours = await referenceHarness.api.nextCharacters(referenceJob.id, prompt);
    expect(theirs.probabilities).toHaveLength(ours.probabilities.length);
    theirs.probabilities.forEach((p, i) => expect(p).toBeCloseTo(ours.probabilities[i]!, 6));
  }, 60_000);

  it('imported into Lathe, it is described and writes the same text as its job', async () => {
    const { api } = referenceHarness;
    const exported = await api.exportModel(referenceJob.id, { zip: false });
    if (exported.kind !== 'files') throw new Error('expected plain files');
    const files = exported.files.map((f) => ({ name: f.name, bytes: f.bytes }));
    const described = await api.importFiles(files);
    expect(described.kind === 'model' && described.model.layers.map((l) => l.className)).toContain('LatheTransformerBlock');
    const imported = await api.generateImportedText(files, REQUEST);
    expect(imported.text).toBe((await api.generateText(referenceJob.id, REQUEST)).text);
  });
});
