// Runs the real worker API in Node on the tfjs cpu backend with fake-indexeddb, and collects its events.
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { expect } from 'vitest';
import { DEFAULT_CONFIG, type TrainConfig } from '../../shared/config';
import { listCheckpoints, openLatheDb, putDataset, type LatheDb } from '../../shared/db';
import { tableDatasetFromInput } from '../../shared/dataset';
import type { JobRecord } from '../../shared/jobs';
import type { TrainerApi, WorkerEvent, WorkerSettings } from '../../shared/protocol';
import { makeXorDataset } from '../../shared/samples';
import { createTrainerApi } from '../../workers/trainer-api';
import { setBaseModelFiles, type BaseModelFiles } from '../../workers/images/base-model';
import { imageAssetFiles, MOBILENET_DIR } from '../../scripts/image-assets.mjs';
import { fakeDecoder } from '../fixtures/image-helpers';

let dbCounter = 0;

/** The app's sample files, read from public/samples/ as the worker would fetch them. */
export async function sampleFileFromDisk(file: string): Promise<Blob> {
  // Image samples are made at build time (scripts/image-assets.mjs), not kept in public/.
  const built = imageAssetFiles().get(`samples/${file}`);
  if (built) return new Blob([new Uint8Array(built)]);
  return new Blob([readFileSync(new URL(`../../public/samples/${file}`, import.meta.url))]);
}

// The transfer base, as the build serves it, read in Node.
setBaseModelFiles(async () => {
  const files = imageAssetFiles();
  const json = JSON.parse(files.get(`${MOBILENET_DIR}/model.json`)!.toString()) as BaseModelFiles['modelJson'];
  const w = files.get(`${MOBILENET_DIR}/weights.bin`)!;
  return { modelJson: json, weights: w.buffer.slice(w.byteOffset, w.byteOffset + w.byteLength) as ArrayBuffer };
});

export function freshDbName(): string {
  return `lathe-test-${process.pid}-${++dbCounter}`;
}

export const TEST_CONFIG: TrainConfig = {
  ...DEFAULT_CONFIG,
  model: { kind: 'mlp', hidden: [{ units: 8, activation: 'tanh' }, { units: 8, activation: 'relu' }] },
  optimizer: 'adam',
  learningRate: 0.05,
  batchSize: 16,
  epochs: 4,
  validationSplit: 0.25,
  seed: 7,
};

export interface Harness {
  api: TrainerApi;
  db: LatheDb;
  events: WorkerEvent[];
  /** Resolves once the job reaches one of the states. */
  waitForState(jobId: string, states: JobRecord['state'][], timeoutMs?: number): Promise<JobRecord>;
}

export async function makeHarness(dbName: string, settings: Partial<WorkerSettings> = {}, onEvent?: (e: WorkerEvent, api: TrainerApi) => void): Promise<Harness> {
  const events: WorkerEvent[] = [];
  const waiters: { jobId: string; states: JobRecord['state'][]; resolve: (j: JobRecord) => void }[] = [];
  const api = createTrainerApi({
    openDb: () => openLatheDb(dbName),
    sampleFile: sampleFileFromDisk,
    imageDecoder: fakeDecoder,
    selectBackend: async () => {
      await tf.setBackend('cpu');
      return { backend: 'cpu', reason: 'unit test', attempts: [], adapter: null, probe: null, threads: null };
    },
  });
  await api.init({ backend: 'cpu', checkpointIntervalSec: 3600, historyEverySteps: 5, ...settings }, (e) => {
    events.push(e);
    onEvent?.(e, api);
    if (e.type === 'job') {
      for (const w of [...waiters]) {
        if (w.jobId === e.job.id && w.states.includes(e.job.state)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(e.job);
        }
      }
    }
  });
  const db = await openLatheDb(dbName);
  return {
    api,
    db,
    events,
    waitForState(jobId, states, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`job ${jobId} did not reach ${states.join('/')}`)), timeoutMs);
        waiters.push({ jobId, states, resolve: (j) => (clearTimeout(timer), resolve(j)) });
      });
    },
  };
}

export function xor(): ReturnType<typeof makeXorDataset> {
  return makeXorDataset(32, 0.1, 3);
}

/** The final weights of a job, as raw bytes from its newest checkpoint. */
export async function finalWeights(db: LatheDb, jobId: string): Promise<Float32Array> {
  const [newest] = await listCheckpoints(db, jobId);
  if (!newest) throw new Error('no checkpoint');
  return new Float32Array(newest.weightData);
}

export async function runUninterrupted(config: TrainConfig = TEST_CONFIG): Promise<{ weights: Float32Array; job: JobRecord }> {
  const h = await makeHarness(freshDbName());
  const job = await h.api.submit({ name: 'reference', config, dataset: xor() });
  await h.api.start(job.id);
  const done = await h.waitForState(job.id, ['completed', 'failed']);
  if (done.state !== 'completed') throw new Error(done.error?.message);
  return { weights: await finalWeights(h.db, job.id), job: done };
}

/** Weights equal to the last bit: the cpu backend is deterministic, so exact resume means this. */
export function expectBitIdentical(actual: Float32Array, expected: Float32Array): void {
  expect(actual.length).toBe(expected.length);
  expect(Buffer.from(actual.buffer).equals(Buffer.from(expected.buffer))).toBe(true);
}

/** Stores a numeric dataset as the app would (fingerprinted, as columns); returns its id. */
export async function storeDataset(h: Harness, input: ReturnType<typeof makeXorDataset>): Promise<string> {
  const dataset = await tableDatasetFromInput(input, Date.now());
  await putDataset(h.db, dataset);
  return dataset.id;
}
