// Model export and import: the exported TensorFlow.js model loads in another program and predicts
// exactly what the app predicts; imported models predict and fine-tune.
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { unzipSync } from 'fflate';
import { listCheckpoints } from '../../shared/db';
import type { ExportedFile, ImportResult, LatheModelMetadata } from '../../shared/package-format';
import { bitEqual, foreignMlp, foreignModelFiles, trainToEnd } from '../fixtures/export-helpers';
import { freshDbName, makeHarness, storeDataset, TEST_CONFIG, xor, type Harness } from './harness';

const ROWS = [[0, 0], [0, 1], [1, 0], [1, 1], [0.3, 0.8], [-0.2, 1.1]];
/** The same rows as a person types them into the prediction form, by column name. */
const RECORDS = ROWS.map(([x, y]) => ({ x: String(x), y: String(y) }));

let h: Harness;
let jobId: string;
let files: ExportedFile[];
beforeAll(async () => {
  await tf.setBackend('cpu');
  h = await makeHarness(freshDbName());
  jobId = (await trainToEnd(h)).id;
  const exported = await h.api.exportModel(jobId, { zip: false });
  if (exported.kind !== 'files') throw new Error('expected plain files');
  files = exported.files;
});

/** What another program does: read model.json and the .bin it names, and nothing from Lathe. */
async function loadLikeAnotherProgram(given: { name: string; bytes: Uint8Array }[]): Promise<{ model: tf.LayersModel; json: tf.io.ModelJSON }> {
  const byName = new Map(given.map((f) => [f.name, f.bytes]));
  const json = JSON.parse(new TextDecoder().decode(byName.get('model.json'))) as tf.io.ModelJSON;
  const handler: tf.io.IOHandler = {
    load: () => {
      const group = json.weightsManifest[0]!;
      const bin = byName.get(group.paths[0]!)!;
      return Promise.resolve({
        modelTopology: json.modelTopology,
        weightSpecs: group.weights,
        weightData: bin.slice().buffer,
        format: json.format,
        generatedBy: json.generatedBy,
        convertedBy: json.convertedBy,
        userDefinedMetadata: json.userDefinedMetadata,
      });
    },
  };
  return { model: await tf.loadLayersModel(handler), json };
}

/** As the metadata says; values are rounded to float32 first, as Lathe stores and encodes table cells. */
function normalize(rows: number[][], meta: LatheModelMetadata): Float32Array {
  const { mean, std } = meta.normalization!;
  return Float32Array.from(rows.flatMap((r) => r.map((v, j) => (Math.fround(v) - mean[j]!) / std[j]!)));
}

describe('model export (TensorFlow.js layers format)', () => {
  it('writes model.json and one weights shard, laid out like model.save, with Lathe metadata', async () => {
    expect(files.map((f) => f.name)).toEqual(['model.json', 'group1-shard1of1.bin']);
    const json = JSON.parse(new TextDecoder().decode(files[0]!.bytes)) as Record<string, unknown> & tf.io.ModelJSON;
    expect(json.format).toBe('layers-model');
    expect(json.convertedBy).toBeNull();
    expect(json.generatedBy).toMatch(/^TensorFlow\.js tfjs-layers v4\.22/);
    expect(json.weightsManifest[0]!.paths).toEqual(['group1-shard1of1.bin']);
    const lathe = json.userDefinedMetadata!.lathe as unknown as LatheModelMetadata;
    const [checkpoint] = await listCheckpoints(h.db, jobId);
    expect(lathe).toMatchObject({
      task: 'classification', featureNames: ['x', 'y'], targetName: xor().targetName, labels: ['0', '1'], vocabulary: null,
      output: 'logits', jobName: 'xor job', config: TEST_CONFIG, step: checkpoint!.cursor.globalStep,
    });
    expect(lathe.normalization).toEqual(checkpoint!.normalization);
    expect(files[1]!.bytes.byteLength).toBe(checkpoint!.weightData.byteLength);
  });

  it('loads unchanged with tf.loadLayersModel in another program and predicts exactly what the app predicts', async () => {
    const { model, json } = await loadLikeAnotherProgram(files);
    const meta = json.userDefinedMetadata!.lathe as unknown as LatheModelMetadata;
    const out = tf.tidy(() => model.predict(tf.tensor2d(normalize(ROWS, meta), [ROWS.length, 2])) as tf.Tensor);
    const theirs = await out.data();
    out.dispose();
    model.dispose();
    const app = await h.api.predictRecords(jobId, RECORDS);
    expect(bitEqual(theirs, app.outputs.flat())).toBe(true);
    // And the model has learned XOR, so the comparison is of meaningful numbers.
    expect(app.predicted.slice(0, 4)).toEqual(['0', '1', '1', '0']);
  });

  it('the zip holds the same two files, which load the same way', async () => {
    const exported = await h.api.exportModel(jobId, { zip: true });
    if (exported.kind !== 'zip') throw new Error('expected a zip');
    expect(exported.file.name).toBe('xor-job-tfjs-model.zip');
    const inside = unzipSync(exported.file.bytes);
    expect(Object.keys(inside).sort()).toEqual(['group1-shard1of1.bin', 'model.json']);
    expect(Buffer.from(inside['group1-shard1of1.bin']!).equals(Buffer.from(files[1]!.bytes))).toBe(true);
    const { model } = await loadLikeAnotherProgram(Object.entries(inside).map(([name, bytes]) => ({ name, bytes })));
    expect(model.layers.map((l) => l.getClassName())).toEqual(['Dense', 'Dense', 'Dense']);
    model.dispose();
  });
});

describe('model import', () => {
  it('a Lathe model imported back (files or zip) is described and predicts exactly as the app does', async () => {
    const result: ImportResult = await h.api.importFiles(files);
    if (result.kind !== 'model') throw new Error(`expected a model, got ${result.kind}`);
    expect(result.model).toMatchObject({ numInputs: 2, numOutputs: 2, fineTune: { ok: true } });
    expect(result.model.lathe?.labels).toEqual(['0', '1']);
    const zipped = await h.api.exportModel(jobId, { zip: true });
    if (zipped.kind !== 'zip') throw new Error('expected a zip');
    const tensorsBefore = tf.memory().numTensors;
    const app = await h.api.predictRecords(jobId, RECORDS);
    for (const given of [files, [zipped.file]]) {
      const imported = await h.api.predictImportedModel(given, ROWS);
      expect(imported.normalized).toBe(true);
      expect(bitEqual(imported.outputs.flat(), app.outputs.flat())).toBe(true);
      expect(imported.predicted).toEqual(app.predicted);
    }
    expect(tf.memory().numTensors).toBe(tensorsBefore);
  });

  it('fine-tuning a foreign Dense MLP starts from its weights (same predictions at step 0) and trains', async () => {
    const foreign = foreignMlp(2, 2);
    const given = await foreignModelFiles(foreign);
    const before = tf.memory().numTensors;
    const datasetId = await storeDataset(h, xor());
    const job = await h.api.fineTuneImportedModel(given, { name: 'tuned', datasetId, config: { epochs: 2, seed: 11 } });
    expect(tf.memory().numTensors).toBe(before);
    expect(job).toMatchObject({ state: 'queued', checkpointStep: 0, config: { epochs: 2, seed: 11, model: { hidden: [{ units: 6, activation: 'relu' }] } } });
    // Step 0 on the app's own normalized inputs computes what the foreign model does on raw ones.
    const theirs = await h.api.predictImportedModel(given, ROWS);
    expect(theirs.normalized).toBe(false);
    const ours = await h.api.predictRecords(job.id, RECORDS);
    ours.probabilities!.flat().forEach((p, i) => expect(p).toBeCloseTo(theirs.probabilities!.flat()[i]!, 5));
    await h.api.start(job.id);
    const done = await h.waitForState(job.id, ['completed', 'failed']);
    expect(done.state).toBe('completed');
    expect(done.resumedFromStep).toBe(0);
    foreign.dispose();
  });

  it('a model that is not a Dense MLP predicts but cannot be fine-tuned, with a readable reason', async () => {
    const model = tf.sequential();
    model.add(tf.layers.dense({ units: 4, activation: 'relu', inputShape: [2] }));
    model.add(tf.layers.dropout({ rate: 0.5 }));
    model.add(tf.layers.dense({ units: 2, activation: 'softmax' }));
    const given = await foreignModelFiles(model);
    model.dispose();
    const result = await h.api.importFiles(given);
    if (result.kind !== 'model') throw new Error('expected a model');
    if (result.model.fineTune.ok) throw new Error('a Dropout model must not be fine-tunable');
    expect(result.model.fineTune.reason).toMatch(/^only Dense MLPs can be fine-tuned in this version: layer 2 \(“dropout_\w+”\) is a Dropout layer$/);
    expect((await h.api.predictImportedModel(given, ROWS)).probabilities).toHaveLength(ROWS.length);
    await expect(h.api.fineTuneImportedModel(given, { name: 'x', datasetId: await storeDataset(h, xor()) })).rejects.toThrow(/only Dense MLPs can be fine-tuned in this version/);
  });

  it('a model whose inputs do not fit the dataset is refused by name', async () => {
    const model = foreignMlp(3, 2);
    const given = await foreignModelFiles(model);
    model.dispose();
    await expect(h.api.fineTuneImportedModel(given, { name: 'x', datasetId: await storeDataset(h, xor()) })).rejects.toThrow(
      `The model takes 3 inputs, but “${xor().name}” gives 2 (x, y).`,
    );
  });
});
