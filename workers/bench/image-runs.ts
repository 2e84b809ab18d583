// One backend's image bench, in a fresh worker: the CNN preset through the app's loop against a
// bare model.fit (loop-run.ts and fit-run.ts, as for the MLPs); transfer learning from the last
// captured frame to a usable model; and the digits sample trained for a fixed number of steps.
// A backend that lacks a kernel a part needs (WASM: Conv2DBackpropFilter) records that part as
// unsupported with the app's own reason (workers/backend-kernels.ts).
import * as tf from '@tensorflow/tfjs';
import { hashConfig, type ModelKind } from '../../shared/config';
import type { ImageDataset } from '../../shared/dataset';
import { CNN_CONFIG, TRANSFER_CONFIG } from '../../shared/image-presets';
import type { BackendName } from '../../shared/protocol';
import { SeededRng } from '../../shared/rng';
import { sampleInfo } from '../../shared/samples';
import { kernelPlan, registryHas } from '../backend-kernels';
import { sampleDataset, storeDataset, type DatasetDeps } from '../datasets';
import { CaptureBuffer } from '../images/capture';
import { browserDecoder } from '../images/decode';
import { buildImageSet, imageDataset } from '../images/import-images';
import { prepareImageSource } from '../images/prepare';
import { buildModel, buildOptimizer } from '../model';
import { TrainingSession } from '../session';
import { openBenchDb, resetBenchDbs } from './bench-db';
import { CADENCE } from './cadence';
import { runFit } from './fit-run';
import { cameraFrame, makeCnnWorkload, shapeName } from './image-data';
import type { CnnResult, CnnSpec, DigitsResult, DigitsSpec, ImagesRunRequest, ImagesRunResult, TransferResult, TransferSpec } from './image-types';
import { newSession, runLoop, writeSessionCheckpoint, type CheckpointTarget } from './loop-run';
import { samplesForSteps, type RunSpec, type Workload } from './workload';

export interface ImagesDeps {
  useBackend: (backend: BackendName) => Promise<string | null>;
  /** The bytes of a sample file the app serves (samples/digits.bin). */
  sampleFile: (file: string) => Promise<Blob>;
}

/** Why `backend` cannot run a `kind` model, in the app's words; null when it can. */
function missingKernels(kind: ModelKind, backend: BackendName): string | null {
  return kernelPlan(kind, [backend], registryHas).excluded[0]?.reason ?? null;
}

const NO_CNN: Omit<CnnResult, 'supported' | 'reason'> = { params: null, loop: null, fit: null, imagesPerSec: null, fitImagesPerSec: null, loopOverFit: null };
const NO_TRANSFER: Omit<TransferResult, 'supported' | 'reason'> = { images: null, storeMs: null, featuresMs: null, trainMs: null, totalMs: null, epochs: null, valAccuracy: null, reached: null };
const NO_DIGITS: Omit<DigitsResult, 'supported' | 'reason'> = { steps: null, epochs: null, trainMs: null, imagesPerSec: null, valAccuracy: null, valImages: null };

async function benchCnn(spec: CnnSpec, backend: BackendName, target: CheckpointTarget): Promise<CnnResult> {
  const missing = missingKernels('cnn', backend);
  if (missing) return { supported: false, reason: missing, ...NO_CNN };
  const w = await makeCnnWorkload(spec, CNN_CONFIG);
  const loop = await runLoop(w, { backend, models: [], checkpointReps: 0, memoryEpochs: 0 }, target, null);
  const params = loop.session.model.countParams();
  loop.session.dispose();
  const { steady } = loop.result;
  const fit = await runFit(w, steady.fromStep, steady.fromStep + steady.steps);
  return {
    supported: true, reason: null, params, loop: loop.result, fit,
    imagesPerSec: steady.samplesPerSec, fitImagesPerSec: fit.steady.samplesPerSec, loopOverFit: steady.samplesPerSec / fit.steady.samplesPerSec,
  };
}

function workloadOf(id: string, dataset: ImageDataset, config: Workload<RunSpec>['config'], configHash: string): Workload<RunSpec> {
  return { spec: { id, budgetMs: 0, maxMs: 0 }, dataset, config, configHash };
}

/** Checkpoints at the app's cadence, written by the app's transaction, as the trainer does. */
function appHooks(w: Workload<RunSpec>, session: TrainingSession, target: CheckpointTarget, backend: BackendName, onProgress: () => void): void {
  session.setHooks({
    progress: onProgress,
    checkpoint: async () => {
      await writeSessionCheckpoint(w, session, target, backend);
    },
  });
}

async function benchTransfer(spec: TransferSpec, backend: BackendName, deps: DatasetDeps, target: CheckpointTarget): Promise<TransferResult> {
  const missing = missingKernels('transfer', backend);
  if (missing) return { supported: false, reason: missing, ...NO_TRANSFER };
  if (!spec.backends.includes(backend)) return { supported: true, reason: 'not run on this backend in this mode', ...NO_TRANSFER };
  // Frames arrive as the camera gives them and are cropped and resized on arrival (captureFrame).
  const capture = new CaptureBuffer();
  const rng = SeededRng.fromSeed(11);
  for (let i = 0; i < spec.classes * spec.perClass; i++) {
    const cls = i % spec.classes;
    capture.add(shapeName(cls), await browserDecoder.decodeFrame(cameraFrame(cls, rng), capture.size, capture.channels));
  }
  // The last frame is in: from here until the model is usable.
  const t0 = performance.now();
  const startedAt = Date.now();
  const { set } = await buildImageSet([], capture, { decoder: browserDecoder, now: () => performance.now() });
  const dataset = await imageDataset(set, { name: 'bench camera', sourceId: 'images', source: 'upload', fileName: null, skipped: [], now: Date.now() });
  await storeDataset(deps, dataset);
  const t1 = performance.now();
  const config = { ...TRANSFER_CONFIG };
  const { source, objective } = await prepareImageSource(dataset, config);
  const t2 = performance.now();
  const model = buildModel(config, { numFeatures: source.inputShape[0]!, numOutputs: source.numOutputs, inputShape: source.inputShape });
  const session = new TrainingSession({
    config, source, objective, model, optimizer: buildOptimizer(config.optimizer, config.learningRate),
    historyEverySteps: CADENCE.historyEverySteps, checkpointIntervalMs: CADENCE.checkpointIntervalMs,
  });
  const usable = (): { epoch: number; acc: number; timeMs: number } | null => {
    const p = session.history.find((h) => h.kind === 'epoch' && (h.metrics.val_acc ?? 0) >= spec.targetAccuracy);
    return p ? { epoch: p.epoch, acc: p.metrics.val_acc!, timeMs: p.timeMs } : null;
  };
  appHooks(workloadOf('transfer', dataset, config, await hashConfig(config)), session, target, backend, () => {
    if (usable()) session.requestStop('pause');
  });
  try {
    await session.run();
    const hit = usable();
    const last = [...session.history].reverse().find((h) => h.kind === 'epoch');
    // The epoch's point is stamped (Date.now) when its validation accuracy is read back: when the app could show it.
    const totalMs = hit ? hit.timeMs - startedAt : null;
    return {
      supported: true, reason: hit ? null : `validation accuracy stayed below ${spec.targetAccuracy} for ${config.epochs} epochs`,
      images: set.labels.length, storeMs: t1 - t0, featuresMs: t2 - t1,
      trainMs: totalMs === null ? null : Math.max(0, totalMs - (t2 - t0)), totalMs,
      epochs: hit?.epoch ?? last?.epoch ?? null, valAccuracy: hit?.acc ?? last?.metrics.val_acc ?? null, reached: hit !== null,
    };
  } finally {
    session.dispose();
  }
}

/** Share of the validation split the model classifies right (dropout off: predict, not training). */
async function validationAccuracy(session: TrainingSession, maxImages: number): Promise<{ acc: number; images: number }> {
  let correct = 0;
  let seen = 0;
  for (const chunk of session.source.validationChunks(Math.min(128, maxImages))) {
    if (seen >= maxImages) {
      tf.dispose([chunk.x, chunk.y]);
      break;
    }
    seen += chunk.size;
    const hits = tf.tidy(() => (session.model.predict(chunk.x) as tf.Tensor).argMax(-1).equal(chunk.y).sum());
    try {
      correct += (await hits.data())[0]!;
    } finally {
      tf.dispose([hits, chunk.x, chunk.y]);
    }
  }
  return { acc: correct / seen, images: seen };
}

async function benchDigits(spec: DigitsSpec, backend: BackendName, deps: DatasetDeps, target: CheckpointTarget): Promise<DigitsResult> {
  const missing = missingKernels('cnn', backend);
  if (missing) return { supported: false, reason: missing, ...NO_DIGITS };
  const steps = spec.steps[backend];
  if (steps === undefined) return { supported: true, reason: 'not run on this backend in this mode', ...NO_DIGITS };
  const dataset = (await sampleDataset(deps, 'sample:digits')) as ImageDataset;
  const config = sampleInfo('sample:digits')!.recommended;
  const w = workloadOf('digits', dataset, config, await hashConfig(config));
  const session = newSession(w);
  session.breakpointStep = steps;
  appHooks(w, session, target, backend, () => undefined);
  try {
    const t0 = performance.now();
    await session.run();
    const trainMs = performance.now() - t0;
    const done = session.cursor.globalStep;
    const val = await validationAccuracy(session, spec.maxValImages ?? session.source.numVal);
    const perEpoch = Math.ceil(session.source.numTrain / config.batchSize);
    return {
      supported: true, reason: null, steps: done, epochs: done / perEpoch, trainMs,
      imagesPerSec: (samplesForSteps(done, session.source.numTrain, config.batchSize) * 1000) / trainMs,
      valAccuracy: val.acc, valImages: val.images,
    };
  } finally {
    session.dispose();
  }
}

/** Runs one part, turning a failure into a reason so the other parts still run. */
async function part<T extends { supported: boolean; reason: string | null }>(empty: Omit<T, 'supported' | 'reason'>, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    return { ...empty, supported: true, reason: `failed: ${err instanceof Error ? err.message : String(err)}` } as T;
  }
}

export async function runImages(request: ImagesRunRequest, deps: ImagesDeps): Promise<ImagesRunResult> {
  const { backend } = request;
  const problem = await deps.useBackend(backend);
  if (problem) {
    return {
      backend, available: false, reason: problem,
      cnn: { supported: false, reason: problem, ...NO_CNN }, transfer: { supported: false, reason: problem, ...NO_TRANSFER }, digits: { supported: false, reason: problem, ...NO_DIGITS },
    };
  }
  await resetBenchDbs();
  const db = await openBenchDb();
  const datasetDeps: DatasetDeps = { database: () => Promise.resolve(db), now: () => Date.now(), sampleFile: deps.sampleFile };
  const target = (id: string): CheckpointTarget => ({ db, jobId: `images-${backend}-${id}`, seq: { value: 0 } });
  try {
    const cnn = await part<CnnResult>(NO_CNN, () => benchCnn(request.cnn, backend, target('cnn')));
    const transfer = await part<TransferResult>(NO_TRANSFER, () => benchTransfer(request.transfer, backend, datasetDeps, target('transfer')));
    const digits = await part<DigitsResult>(NO_DIGITS, () => benchDigits(request.digits, backend, datasetDeps, target('digits')));
    return { backend, available: true, reason: null, cnn, transfer, digits };
  } finally {
    db.close();
    await resetBenchDbs();
  }
}
