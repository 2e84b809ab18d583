// Resumable training packages: a package imported on another device (a fresh database and a fresh
// worker) continues at the same step and ends with the same weights, bit for bit on cpu.
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { unzipSync } from 'fflate';
import { hashConfig } from '../../shared/config';
import { listCheckpoints } from '../../shared/db';
import { makeXorDataset } from '../../shared/samples';
import { PACKAGE_FORMAT_VERSION, type ExportedFile } from '../../shared/package-format';
import type { TableDatasetInput } from '../../shared/dataset';
import { pauseAt, readManifest, sha256, snapshotStores, trainToEnd } from '../fixtures/export-helpers';
import { finalWeights, freshDbName, makeHarness, runUninterrupted, TEST_CONFIG, xor, expectBitIdentical } from './harness';

/** TEST_CONFIG runs 4 epochs of 6 steps; stop strictly inside, mid-epoch or at a boundary. */
const TOTAL_STEPS = 24;

/** A numeric dataset written as a CSV file a user would choose, every float32 exact. */
function csvOf(d: TableDatasetInput): Blob {
  const lines = [[...d.featureNames, d.targetName].join(',')];
  for (let i = 0; i < d.numSamples; i++) {
    const row = Array.from(d.features.subarray(i * d.numFeatures, (i + 1) * d.numFeatures), (v) => String(v));
    lines.push([...row, d.classNames[d.targets[i]!]].join(','));
  }
  return new File([lines.join('\n') + '\n'], 'xor.csv', { type: 'text/csv' });
}
const randomStep = (): number => 1 + Math.floor(Math.random() * (TOTAL_STEPS - 2));

let reference: Float32Array;
beforeAll(async () => {
  await tf.setBackend('cpu');
  reference = (await runUninterrupted()).weights;
});

async function exportPaused(includeDataset: boolean): Promise<{ file: ExportedFile; step: number }> {
  const device = await makeHarness(freshDbName(), { checkpointIntervalSec: 0 });
  const paused = await pauseAt(device, randomStep());
  const file = await device.api.exportPackage(paused.id, { includeDataset });
  return { file, step: paused.checkpointStep! };
}

describe('resumable training package', () => {
  it('describes itself: format, version, config hash, checksums of every file', async () => {
    const device = await makeHarness(freshDbName(), { checkpointIntervalSec: 0 });
    const paused = await pauseAt(device, 4);
    const file = await device.api.exportPackage(paused.id, { includeDataset: true });
    expect(file.name).toBe('resumable.lathe');
    const manifest = readManifest(file.bytes);
    expect(manifest).toMatchObject({
      format: 'lathe-package', formatVersion: PACKAGE_FORMAT_VERSION, appVersion: '0.1.0',
      config: TEST_CONFIG, configHash: await hashConfig(TEST_CONFIG), dataset: { included: true },
    });
    expect(manifest.checkpoint.cursor.globalStep).toBe(paused.checkpointStep);
    expect(manifest.checkpoint).not.toHaveProperty('weightData');
    const inside = unzipSync(file.bytes);
    expect(Object.keys(inside).sort()).toEqual([
      'checkpoint/optimizer.bin', 'checkpoint/weights.bin', 'dataset/codes.bin', 'dataset/columns.json', 'dataset/numbers.bin', 'manifest.json',
    ]);
    for (const f of manifest.files) expect(sha256(inside[f.path]!)).toBe(f.sha256);
    const [checkpoint] = await listCheckpoints(device.db, paused.id);
    expect(Buffer.from(inside['checkpoint/weights.bin']!).equals(Buffer.from(checkpoint!.weightData))).toBe(true);
  });

  it('imported on another device with its dataset, it continues at the same step and ends bit-identical', async () => {
    const { file, step } = await exportPaused(true);
    const other = await makeHarness(freshDbName());
    const result = await other.api.importFiles([{ name: file.name, bytes: file.bytes }]);
    if (result.kind !== 'package') throw new Error(`expected a package, got ${result.kind}`);
    expect(result.dataset).toBe('included');
    expect(result.job).toMatchObject({ state: 'paused', name: 'resumable (imported)', checkpointStep: step });
    expect(result.job.progress.step).toBe(step);
    const resumed = await other.api.start(result.job.id);
    expect(resumed.resumedFromStep).toBe(step);
    const done = await other.waitForState(result.job.id, ['completed', 'failed']);
    expect(done.state).toBe('completed');
    expectBitIdentical(await finalWeights(other.db, result.job.id), reference);
  });

  it('without its dataset it asks for it and stores nothing; given the dataset, it ends bit-identical', async () => {
    const { file, step } = await exportPaused(false);
    expect(unzipSync(file.bytes)['dataset/numbers.bin']).toBeUndefined();
    const other = await makeHarness(freshDbName());
    const asked = await other.api.importFiles([file]);
    expect(asked).toMatchObject({ kind: 'needs-dataset', jobName: 'resumable', dataset: { rows: 128, columns: ['x', 'y', 'label'] } });
    if (asked.kind !== 'needs-dataset') throw new Error('expected to be asked');
    expect(asked.message).toMatch(/Choose the file of “XOR”: 128 rows with the columns x, y, label/);
    const stored = await snapshotStores(other.db);
    // A different dataset would not continue the same run.
    await expect(other.api.importFiles([file], { datasetFile: csvOf(makeXorDataset(32, 0.1, 4)) })).rejects.toThrow(/is not the dataset “resumable” was trained on/);
    expect(await snapshotStores(other.db)).toBe(stored);
    const result = await other.api.importFiles([file], { datasetFile: csvOf(xor()) });
    if (result.kind !== 'package') throw new Error('expected a package');
    expect(result.dataset).toBe('supplied');
    expect((await other.api.start(result.job.id)).resumedFromStep).toBe(step);
    await other.waitForState(result.job.id, ['completed']);
    expectBitIdentical(await finalWeights(other.db, result.job.id), reference);
  });

  it('without its dataset, on a device that already has that dataset, it imports directly', async () => {
    const { file } = await exportPaused(false);
    const other = await makeHarness(freshDbName());
    await other.api.submit({ name: 'has xor', config: TEST_CONFIG, dataset: xor() });
    const result = await other.api.importFiles([file]);
    expect(result).toMatchObject({ kind: 'package', dataset: 'already-stored' });
  });

  it('a finished job imports as completed, and importing twice makes two jobs sharing one dataset', async () => {
    const device = await makeHarness(freshDbName());
    const done = await trainToEnd(device);
    const file = await device.api.exportPackage(done.id, { includeDataset: true });
    const other = await makeHarness(freshDbName());
    const a = await other.api.importFiles([file]);
    const b = await other.api.importFiles([file]);
    if (a.kind !== 'package' || b.kind !== 'package') throw new Error('expected packages');
    expect(a.job.state).toBe('completed');
    expect(a.job.id).not.toBe(b.job.id);
    expect(await other.db.count('datasets')).toBe(1);
    expectBitIdentical(await finalWeights(other.db, a.job.id), reference);
  });
});
