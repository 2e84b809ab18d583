// A text job in a resumable `.lathe` package: exported mid-training with its text, it resumes on
// another device (a fresh database and worker) and ends bit-identical on cpu; without its text it
// finds the stored one by fingerprint, or asks for the file and checks it.
import { unzipSync } from 'fflate';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ExportedFile } from '../../shared/package-format';
import type { TextSummary } from '../../shared/dataset';
import { readManifest, rezip, snapshotStores } from '../fixtures/export-helpers';
import { submitText, TEXT, trainTextToEnd } from '../fixtures/text-job';
import { expectBitIdentical, finalWeights, freshDbName, makeHarness } from './harness';

/** TEXT_CONFIG: 2 epochs of 14 steps. */
const TOTAL_STEPS = 28;

let reference: Float32Array;
beforeAll(async () => {
  await tf.setBackend('cpu');
  const h = await makeHarness(freshDbName());
  reference = await finalWeights(h.db, (await trainTextToEnd(h)).id);
}, 120_000);

/** A text job paused by itself at a random step inside the run, exported. */
async function exportPaused(includeDataset: boolean): Promise<{ file: ExportedFile; step: number }> {
  const device = await makeHarness(freshDbName(), { checkpointIntervalSec: 0 });
  const stopAt = 1 + Math.floor(Math.random() * (TOTAL_STEPS - 2));
  const job = await submitText(device, undefined, stopAt);
  await device.api.start(job.id);
  const paused = await device.waitForState(job.id, ['paused', 'completed', 'failed']);
  expect(paused).toMatchObject({ state: 'paused', checkpointStep: stopAt });
  return { file: await device.api.exportPackage(job.id, { includeDataset }), step: stopAt };
}

describe('a text job in a .lathe package', () => {
  it('carries the text as UTF-8 and its vocabulary in the manifest', async () => {
    const { file } = await exportPaused(true);
    const inside = unzipSync(file.bytes);
    expect(new TextDecoder().decode(inside['dataset/text.txt'])).toBe(TEXT.replace(/\r\n?/g, '\n'));
    const meta = readManifest(file.bytes).dataset.meta as TextSummary;
    expect(meta.kind).toBe('text');
    expect(meta.vocabulary).toEqual([...new Set(Array.from(TEXT.replace(/\r\n?/g, '\n')))].sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!));
  }, 60_000);

  it('exported mid-training with its text and imported on another device, it resumes at the same step and ends bit-identical', async () => {
    const { file, step } = await exportPaused(true);
    const other = await makeHarness(freshDbName());
    const result = await other.api.importFiles([{ name: file.name, bytes: file.bytes }]);
    if (result.kind !== 'package') throw new Error(`expected a package, got ${result.kind}`);
    expect(result.dataset).toBe('included');
    expect(result.job).toMatchObject({ state: 'paused', checkpointStep: step });
    expect((await other.api.start(result.job.id)).resumedFromStep).toBe(step);
    const done = await other.waitForState(result.job.id, ['completed', 'failed']);
    expect(done.state).toBe('completed');
    expectBitIdentical(await finalWeights(other.db, result.job.id), reference);
    // The imported job writes text like any other, and a second import shares the stored text.
    expect((await other.api.generateText(result.job.id, { prompt: 'Call me ', length: 10, temperature: 0, topK: 0, seed: 1 })).text).toHaveLength(10);
    await other.api.importFiles([{ name: file.name, bytes: file.bytes }]);
    expect(await other.db.count('datasets')).toBe(1);
  }, 120_000);

  it('without its text, it imports at once where that text is stored, and elsewhere asks for the text file and checks it', async () => {
    const { file, step } = await exportPaused(false);
    expect(unzipSync(file.bytes)['dataset/text.txt']).toBeUndefined();
    const has = await makeHarness(freshDbName());
    await has.api.importText({ text: TEXT, name: 'moby' });
    expect(await has.api.importFiles([file])).toMatchObject({ kind: 'package', dataset: 'already-stored' });

    const other = await makeHarness(freshDbName());
    const asked = await other.api.importFiles([file]);
    if (asked.kind !== 'needs-dataset') throw new Error(`expected to be asked, got ${asked.kind}`);
    expect(asked.message).toMatch(/Choose the text file of “moby”: 4000 characters/);
    const stored = await snapshotStores(other.db);
    await expect(other.api.importFiles([file], { datasetFile: new File([TEXT.slice(1)], 'moby.txt') })).rejects.toThrow(/is not the text “text” was trained on/);
    expect(await snapshotStores(other.db)).toBe(stored);
    const result = await other.api.importFiles([file], { datasetFile: new File([TEXT], 'moby.txt') });
    if (result.kind !== 'package') throw new Error('expected a package');
    expect(result.dataset).toBe('supplied');
    expect((await other.api.start(result.job.id)).resumedFromStep).toBe(step);
    await other.waitForState(result.job.id, ['completed']);
    expectBitIdentical(await finalWeights(other.db, result.job.id), reference);
  }, 120_000);

  it('a text that differs from its description or its fingerprint is refused, and nothing is stored', async () => {
    const { file } = await exportPaused(true);
    const other = await makeHarness(freshDbName());
    const stored = await snapshotStores(other.db);
    const text = TEXT.replace(/\r\n?/g, '\n');
    // One character swapped for another of the vocabulary: same facts, another fingerprint.
    const swapped = rezip(file.bytes, { 'dataset/text.txt': new TextEncoder().encode(`I${text.slice(1)}`) }, true);
    await expect(other.api.importFiles([{ name: 'x.lathe', bytes: swapped }])).rejects.toThrow(/does not match the one its checkpoint was trained on/);
    const shorter = rezip(file.bytes, { 'dataset/text.txt': new TextEncoder().encode(text.slice(0, 3000)) }, true);
    await expect(other.api.importFiles([{ name: 'x.lathe', bytes: shorter }])).rejects.toThrow(/does not match the manifest's description/);
    const manifest = readManifest(file.bytes);
    expect(manifest.files.map((f) => f.path)).toContain('dataset/text.txt');
    expect(await snapshotStores(other.db)).toBe(stored);
  }, 60_000);
});
