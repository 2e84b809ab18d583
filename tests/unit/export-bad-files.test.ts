// Bad files: each gets an error that names the problem, and nothing already stored changes.
import { PACKAGE_FORMAT_VERSION } from '../../shared/package-format';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { unzipSync } from 'fflate';
import type { ExportedFile, InputFile } from '../../shared/package-format';
import { jsonFile, pauseAt, readManifest, rezip, snapshotStores } from '../fixtures/export-helpers';
import { freshDbName, makeHarness, type Harness } from './harness';

let h: Harness;
let pkg: ExportedFile;
let modelZip: ExportedFile;
let modelFiles: ExportedFile[];
beforeAll(async () => {
  await tf.setBackend('cpu');
  h = await makeHarness(freshDbName(), { checkpointIntervalSec: 0 });
  // A job with checkpoints and a dataset, so "nothing changed" is checked against real records.
  const job = await pauseAt(h, 5);
  pkg = await h.api.exportPackage(job.id, { includeDataset: true });
  const zipped = await h.api.exportModel(job.id, { zip: true });
  const plain = await h.api.exportModel(job.id, { zip: false });
  if (zipped.kind !== 'zip' || plain.kind !== 'files') throw new Error('unexpected export kinds');
  modelZip = zipped.file;
  modelFiles = plain.files;
});

const encode = (text: string): Uint8Array => new TextEncoder().encode(text);
const modelJson = (): Record<string, unknown> => JSON.parse(new TextDecoder().decode(modelFiles[0]!.bytes)) as Record<string, unknown>;
const PNG = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 0, 0, 0, 1]);

/** Imports must reject with a message matching `message`, leaving every store exactly as it was. */
async function expectRefused(files: InputFile[], message: string | RegExp): Promise<void> {
  const before = await snapshotStores(h.db);
  await expect(h.api.importFiles(files)).rejects.toThrow(message);
  expect(await snapshotStores(h.db)).toBe(before);
}

describe('bad files are refused by name, and nothing stored changes', () => {
  it('a truncated package', async () => {
    await expectRefused([{ name: 'run.lathe', bytes: pkg.bytes.slice(0, Math.floor(pkg.bytes.length / 2)) }], /“run\.lathe” is not a complete zip archive: it may be truncated or damaged/);
  });

  it('a truncated model zip', async () => {
    await expectRefused([{ name: 'model.zip', bytes: modelZip.bytes.slice(0, modelZip.bytes.length - 10) }], /“model\.zip” is not a complete zip archive/);
  });

  it('invalid JSON in a package manifest', async () => {
    const broken = rezip(pkg.bytes, { 'manifest.json': encode('{"format": "lathe-package", "formatVersion": 1,') });
    await expectRefused([{ name: 'run.lathe', bytes: broken }], /^manifest\.json in “run\.lathe” is not valid JSON \(/);
  });

  it('invalid JSON in model.json', async () => {
    await expectRefused([{ name: 'model.json', bytes: encode('{"modelTopology": {') }, modelFiles[1]!], /^“model\.json” is not valid JSON \(/);
  });

  it('a manifest field of the wrong type is named', async () => {
    const manifest = readManifest(pkg.bytes) as unknown as { checkpoint: { cursor: Record<string, unknown> } };
    manifest.checkpoint.cursor.globalStep = 'five';
    const broken = rezip(pkg.bytes, { 'manifest.json': encode(JSON.stringify(manifest)) });
    await expectRefused([{ name: 'run.lathe', bytes: broken }], 'manifest.json: “checkpoint.cursor.globalStep” must be a whole number, 0 or more.');
  });

  it('model weights whose byte size does not match the model', async () => {
    const short = { name: 'group1-shard1of1.bin', bytes: modelFiles[1]!.bytes.slice(0, -4) };
    await expectRefused([modelFiles[0]!, short], /The weight file “group1-shard1of1\.bin” has 452 bytes, but “model\.json” describes 456 bytes for 6 weights: the weights do not match the model\./);
  });

  it('model weights that do not fit the layers', async () => {
    // Same byte count, but a kernel of 2×8 claimed as 4×4: tfjs refuses to set it.
    const json = modelJson() as { weightsManifest: { weights: { shape: number[] }[] }[] };
    json.weightsManifest[0]!.weights[0]!.shape = [4, 4];
    await expectRefused([jsonFile('model.json', json), modelFiles[1]!], /^“model\.json” could not be loaded: its weights do not fit its layers/);
  });

  it('weight files without their model.json', async () => {
    await expectRefused([modelFiles[1]!], 'Only weight files were given (“group1-shard1of1.bin”). Choose the model.json together with its .bin files, or the zip.');
  });

  it('a model.json without its weight file', async () => {
    await expectRefused([modelFiles[0]!], /refers to the weight file “group1-shard1of1\.bin”, which was not given/);
  });

  it('package weights whose byte size does not match the model, even with a consistent manifest', async () => {
    const inside = unzipSync(pkg.bytes);
    const broken = rezip(pkg.bytes, { 'checkpoint/weights.bin': inside['checkpoint/weights.bin']!.slice(0, -8) }, true);
    await expectRefused([{ name: 'run.lathe', bytes: broken }], 'checkpoint/weights.bin has 448 bytes, but the model 2→8→8→2 needs 456.');
  });

  it('a damaged weights file in a package', async () => {
    const weights = unzipSync(pkg.bytes)['checkpoint/weights.bin']!.slice();
    weights[10]! ^= 0x40;
    const broken = rezip(pkg.bytes, { 'checkpoint/weights.bin': weights });
    await expectRefused([{ name: 'run.lathe', bytes: broken }], 'checkpoint/weights.bin in “run.lathe” is damaged: its SHA-256 does not match the manifest.');
  });

  it('a package whose checkpoint was altered with matching file checksums', async () => {
    const weights = unzipSync(pkg.bytes)['checkpoint/weights.bin']!.slice();
    weights[10]! ^= 0x40;
    const broken = rezip(pkg.bytes, { 'checkpoint/weights.bin': weights }, true);
    await expectRefused([{ name: 'run.lathe', bytes: broken }], 'The checkpoint in “run.lathe” fails its checksum: the package was altered or damaged.');
  });

  it('a package made by a newer version of Lathe', async () => {
    const manifest = { ...readManifest(pkg.bytes), formatVersion: PACKAGE_FORMAT_VERSION + 1 };
    const newer = rezip(pkg.bytes, { 'manifest.json': encode(JSON.stringify(manifest)) });
    await expectRefused(
      [{ name: 'future.lathe', bytes: newer }],
      `This package was made by a newer version of Lathe (format ${PACKAGE_FORMAT_VERSION + 1}); this version reads format ${PACKAGE_FORMAT_VERSION}. Update Lathe to open it.`,
    );
  });

  it('a PNG given as a package', async () => {
    await expectRefused([{ name: 'photo.lathe', bytes: PNG }], '“photo.lathe” is a PNG image, not a Lathe training package (.lathe) or a TensorFlow.js model');
  });

  it('a CSV given as a package', async () => {
    await expectRefused([{ name: 'iris.lathe', bytes: encode('sepal_length,sepal_width,species\n5.1,3.5,setosa\n') }], /“iris\.lathe” is a CSV table, not a Lathe training package.*add it as a dataset instead/);
  });

  it('a zip that is neither a package nor a model', async () => {
    const other = rezip(modelZip.bytes, { 'model.json': null, 'group1-shard1of1.bin': null, 'notes.txt': encode('hello') });
    await expectRefused([{ name: 'notes.zip', bytes: other }], '“notes.zip” is a zip, but it holds neither a Lathe package (manifest.json) nor a TensorFlow.js model (model.json).');
  });

  it('an empty file', async () => {
    await expectRefused([{ name: 'empty.lathe', bytes: new Uint8Array(0) }], '“empty.lathe” is empty.');
  });
});
