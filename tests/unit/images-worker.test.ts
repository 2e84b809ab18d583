// Image datasets in the real worker API (Node, tfjs cpu, fake-indexeddb, a fake decoder): folders and
// camera frames become one stored dataset or a clear refusal with nothing stored; a CNN trains with
// seeded augmentation and dropout and resumes bit-identically; predictions and evaluation come from
// the live or checkpointed model; transfer learning trains a head on the frozen base's features.
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import type { TrainConfig } from '../../shared/config';
import { listCheckpoints, listDatasets } from '../../shared/db';
import type { ImageFileEntry } from '../../shared/protocol';
import { classImage, fakeFile, fakeImage, type FakeFrame } from '../fixtures/image-helpers';
import { expectBitIdentical, finalWeights, freshDbName, makeHarness, type Harness } from './harness';

const CNN: TrainConfig = {
  model: { kind: 'cnn', imageSize: 8, blocks: [{ filters: 4, kernelSize: 3 }], dense: 8, dropout: 0.25, augment: { flip: true, shift: 0.125, brightness: 0.2 } },
  optimizer: 'adam',
  learningRate: 0.01,
  batchSize: 4,
  epochs: 6,
  validationSplit: 0.25,
  seed: 11,
};

/** `perClass` images of each of `k` classes in folder/class/i.png form. */
function folder(k: number, perClass: number, root = 'shapes'): ImageFileEntry[] {
  const out: ImageFileEntry[] = [];
  for (let c = 0; c < k; c++)
    for (let i = 0; i < perClass; i++) out.push({ file: fakeFile(classImage(c, k, 24, i % 2), `${i}.png`), path: `${root}/class-${c}/${i}.png`, label: null });
  return out;
}

async function addFolder(h: Harness, files: ImageFileEntry[], name = 'shapes'): Promise<string> {
  const r = await h.api.importImages({ name, files, useCapture: false });
  return r.dataset.id;
}

async function trainToEnd(h: Harness, datasetId: string, config: TrainConfig = CNN): Promise<string> {
  const job = await h.api.submit({ name: 'cnn', config, datasetId });
  await h.api.start(job.id);
  const done = await h.waitForState(job.id, ['completed', 'failed']);
  expect(done.error?.message ?? null).toBeNull();
  return job.id;
}

describe('image datasets', () => {
  it('a folder whose subfolders are the classes is stored once; non-images, undecodable and too-large files are skipped and listed', async () => {
    const h = await makeHarness(freshDbName());
    const huge = new Uint8Array(32);
    huge.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    new DataView(huge.buffer).setUint32(16, 50_000);
    new DataView(huge.buffer).setUint32(20, 50_000);
    const files = [
      ...folder(2, 3),
      { file: new File(['just text'], 'notes.txt'), path: 'shapes/class-0/notes.txt', label: null },
      { file: new File(['garbage bytes'], 'broken.png'), path: 'shapes/class-1/broken.png', label: null },
      { file: new File([huge], 'huge.png'), path: 'shapes/class-1/huge.png', label: null },
    ];
    const progress: number[] = [];
    const first = await h.api.importImages({ name: 'shapes', files, useCapture: false }, (done, total) => progress.push(done / total));
    expect(progress.at(-1)).toBe(1);
    expect(first.reused).toBe(false);
    expect(first.dataset).toMatchObject({ kind: 'images', rows: 6, classNames: ['class-0', 'class-1'], classCounts: [3, 3], size: 96, channels: 3, skippedCount: 3 });
    expect(first.skipped.map((s) => [s.name, s.reason.split(' (')[0]])).toEqual([
      ['shapes/class-0/notes.txt', 'not an image file'],
      ['shapes/class-1/broken.png', 'could not be decoded'],
      ['shapes/class-1/huge.png', 'too large to decode'],
    ]);
    const again = await h.api.importImages({ name: 'copy', files: folder(2, 3), useCapture: false });
    expect(again).toMatchObject({ reused: true, dataset: { id: first.dataset.id } });
    expect(await listDatasets(h.db)).toHaveLength(1);
    const bulk = await h.db.get('datasets', first.dataset.id);
    expect(bulk?.images?.pixels.byteLength).toBe(6 * 96 * 96 * 3);
  });

  it('bad input gets a clear message and nothing is stored: one class, a class with no readable image, only non-images', async () => {
    const h = await makeHarness(freshDbName());
    await expect(h.api.importImages({ name: 'one', files: folder(1, 3, 'cats'), useCapture: false })).rejects.toThrow(/at least 2 classes, but there is only “cats”.*Nothing was stored/);
    const emptyClass = [...folder(1, 2), { file: new File(['nope'], 'x.png'), path: 'shapes/dogs/x.png', label: null }];
    await expect(h.api.importImages({ name: 'e', files: emptyClass, useCapture: false })).rejects.toThrow(/class “dogs” has no readable image \(shapes\/dogs\/x.png: could not be decoded/);
    const text: ImageFileEntry[] = [{ file: new File(['a,b\n1,2'], 'table.csv'), path: 'table.csv', label: 'a' }];
    await expect(h.api.importImages({ name: 't', files: text, useCapture: false })).rejects.toThrow(/None of the files is an image Lathe can read \(table.csv: not an image file/);
    expect(await h.db.count('datasets')).toBe(0);
    expect(await h.db.count('dataset-info')).toBe(0);
  });

  it('storage filling up during the image write leaves no half-written dataset, and says so', async () => {
    const h = await makeHarness(freshDbName());
    const store = (globalThis as unknown as { IDBObjectStore: { prototype: { put: (...a: unknown[]) => unknown } } }).IDBObjectStore.prototype;
    const realPut = store.put;
    // The pixels go in first; the summary, in the same transaction, finds the disk full.
    store.put = function (this: { name: string }, ...args: unknown[]) {
      if (this.name === 'dataset-info') throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
      return realPut.apply(this, args);
    };
    try {
      await expect(h.api.importImages({ name: 'shapes', files: folder(2, 2), useCapture: false })).rejects.toThrow(/Storage is full: “shapes” needs .* MB.*Nothing was stored/);
    } finally {
      store.put = realPut;
    }
    expect(await h.db.count('datasets')).toBe(0);
    expect(await h.db.count('dataset-info')).toBe(0);
  });

  it('a cancelled import stores nothing', async () => {
    const h = await makeHarness(freshDbName());
    const importing = h.api.importImages({ name: 'big', files: folder(2, 40), useCapture: false }, () => void h.api.cancelImageImport());
    await expect(importing).rejects.toThrow(/cancelled; nothing was stored/);
    expect(await h.db.count('dataset-info')).toBe(0);
  });

  it('camera frames recorded per class (cropped to the center) become a dataset, and the recording is cleared', async () => {
    const h = await makeHarness(freshDbName());
    const frame = (c: number): FakeFrame => ({ width: 40, height: 30, rgb: fakeImage(40, 30, (x) => (x < 20 === (c === 0) ? [250, 250, 250] : [0, 0, 0])).subarray(15) });
    for (let i = 0; i < 3; i++) await h.api.captureFrame('left', frame(0) as unknown as Blob);
    const counts = await h.api.captureFrame('right', frame(1) as unknown as Blob);
    expect(counts).toEqual({ left: 3, right: 1 });
    expect(await h.api.clearCapture('nobody')).toEqual({ left: 3, right: 1 });
    const r = await h.api.importImages({ name: 'camera', files: [], useCapture: true });
    expect(r.dataset).toMatchObject({ kind: 'images', rows: 4, classNames: ['left', 'right'], classCounts: [3, 1] });
    expect(await h.api.clearCapture(null)).toEqual({});
  });

  it('the digits sample is stored once: 3,000 grey 28 px images of 10 classes', async () => {
    const h = await makeHarness(freshDbName());
    const r = await h.api.sample('sample:digits');
    expect(r.dataset).toMatchObject({ kind: 'images', rows: 3000, size: 28, channels: 1, classCounts: new Array(10).fill(300) });
    expect((await h.api.sample('sample:digits')).reused).toBe(true);
  });
});

describe('training on images', () => {
  it('a CNN learns the classes, and a run interrupted at a breakpoint and resumed in a new worker ends bit-identical (augmentation and dropout are seeded)', async () => {
    const files = folder(2, 8);
    const ref = await makeHarness(freshDbName());
    const refJob = await trainToEnd(ref, await addFolder(ref, files));
    const reference = await finalWeights(ref.db, refJob);
    const done = (await ref.db.get('jobs', refJob))!;
    expect(done.history.filter((p) => p.kind === 'epoch').at(-1)!.metrics.acc).toBeGreaterThanOrEqual(0.9);

    const dbName = freshDbName();
    const first = await makeHarness(dbName);
    const datasetId = await addFolder(first, files);
    const job = await first.api.submit({ name: 'cnn', config: CNN, datasetId, breakpoint: { kind: 'step', at: 5 } });
    await first.api.start(job.id);
    const paused = await first.waitForState(job.id, ['paused', 'completed', 'failed']);
    expect(paused.state).toBe('paused');
    expect((await listCheckpoints(first.db, job.id))[0]!.cursor.globalStep).toBe(5);
    // A new worker (a reload): the dataset comes from IndexedDB, nothing is uploaded again.
    const second = await makeHarness(dbName);
    await second.api.start(job.id);
    expect((await second.waitForState(job.id, ['completed', 'failed'])).state).toBe('completed');
    expectBitIdentical(await finalWeights(second.db, job.id), reference);
  });

  it('predictions and evaluation come from the live model while it trains, and from the checkpoint after; no tensor leaks', async () => {
    const h = await makeHarness(freshDbName());
    const datasetId = await addFolder(h, folder(2, 8));
    const before = tf.memory().numTensors;
    const job = await h.api.submit({ name: 'long', config: { ...CNN, epochs: 5000 }, datasetId });
    await h.api.start(job.id);
    const live = await h.api.predictImage(job.id, fakeFile(classImage(1, 2, 24), 'probe.png'));
    expect(live.probabilities![0]!.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    expect(live.predicted).toHaveLength(1);
    await h.api.cancel(job.id);
    const trained = await trainToEnd(h, datasetId);
    const p = await h.api.predictImage(trained, fakeFile(classImage(1, 2, 24), 'probe.png'));
    expect(p.predicted).toEqual(['class-1']);
    await expect(h.api.predictImage(trained, new File(['no'], 'x.png'))).rejects.toThrow(/The image could not be decoded/);
    const ev = await h.api.evaluate(trained);
    expect(ev).toMatchObject({ kind: 'classification', classNames: ['class-0', 'class-1'], numRows: 4 });
    if (ev.kind !== 'classification') throw new Error('not a classifier');
    expect(ev.confusion.flat().reduce((a, b) => a + b, 0)).toBe(4);
    expect(ev.images!.length).toBe(4 - Math.round(ev.accuracy * 4));
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a CNN job on a table, or an MLP on images, is refused with words', async () => {
    const h = await makeHarness(freshDbName());
    const datasetId = await addFolder(h, folder(2, 2));
    await expect(h.api.submit({ name: 'mlp', config: { ...CNN, model: { kind: 'mlp', hidden: [] } }, datasetId })).rejects.toThrow(/dataset of images: train it with the CNN or with transfer learning/);
    const iris = await h.api.sample('sample:iris');
    await expect(h.api.submit({ name: 'cnn', config: CNN, datasetId: iris.dataset.id })).rejects.toThrow(/is a table: train it with an MLP, not a CNN/);
  });

  it('transfer learning trains a head on the frozen base features and predicts through base and head', async () => {
    const h = await makeHarness(freshDbName());
    const datasetId = await addFolder(h, folder(2, 6));
    const config: TrainConfig = { ...CNN, model: { kind: 'transfer', base: 'mobilenet-v2', imageSize: 32, hidden: 16 }, learningRate: 0.001, epochs: 6, batchSize: 8 };
    const jobId = await trainToEnd(h, datasetId, config);
    const weights = (await listCheckpoints(h.db, jobId))[0]!.weightSpecs.map((s) => s.shape);
    expect(weights).toEqual([[1280, 16], [16], [16, 2], [2]]);
    const p = await h.api.predictImage(jobId, fakeFile(classImage(0, 2, 24), 'probe.png'));
    expect(p.probabilities![0]).toHaveLength(2);
  });
});
