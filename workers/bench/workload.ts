// Turns a ModelSpec into what the app's trainer works with: a stored-style Dataset, a TrainConfig,
// device data, and a fresh model + optimizer built by the app's own builders (workers/model.ts).
import type * as tf from '@tensorflow/tfjs';
import { hashConfig, type TrainConfig } from '../../shared/config';
import { requireTable, tableDatasetFromInput, type Dataset } from '../../shared/dataset';
import { emptyProgress, type JobRecord } from '../../shared/jobs';
import { SeededRng } from '../../shared/rng';
import { prepareData, type PreparedData } from '../data';
import { buildModel, buildOptimizer } from '../model';
import type { ModelSpec } from './types';

/** The same seed everywhere, so every backend trains on identical data and initial weights. */
const BENCH_SEED = 42;

/** What the loop and fit runs need of any workload's spec (an MLP's ModelSpec, the CNN's CnnSpec). */
export interface RunSpec {
  id: string;
  budgetMs: number;
  maxMs: number;
}

export interface Workload<S extends RunSpec = ModelSpec> {
  spec: S;
  dataset: Dataset;
  config: TrainConfig;
  configHash: string;
}

export interface Built {
  data: PreparedData;
  model: tf.Sequential;
  optimizer: tf.Optimizer;
}

/**
 * Random features with a class-dependent shift, so the task is learnable (the loss falls) while
 * costing the same per step as real data of the same shape.
 */
function synthesize(spec: ModelSpec, seed: number): { features: Float32Array; targets: Float32Array } {
  const rng = SeededRng.fromSeed(seed);
  const features = new Float32Array(spec.samples * spec.features);
  const targets = new Float32Array(spec.samples);
  for (let i = 0; i < spec.samples; i++) {
    const cls = rng.nextInt(spec.classes);
    targets[i] = cls;
    for (let j = 0; j < spec.features; j++) {
      features[i * spec.features + j] = rng.next() + (j % spec.classes === cls ? 0.5 : 0);
    }
  }
  return { features, targets };
}

/** `seed` drives the data, the initial weights and the shuffle; every bench uses BENCH_SEED. */
export async function makeWorkload(spec: ModelSpec, seed: number = BENCH_SEED): Promise<Workload> {
  const { features, targets } = synthesize(spec, seed);
  const input = {
    kind: 'table' as const,
    id: `bench:${spec.id}`,
    name: `bench ${spec.id}`,
    task: 'classification' as const,
    featureNames: Array.from({ length: spec.features }, (_, j) => `f${j}`),
    targetName: 'class',
    classNames: Array.from({ length: spec.classes }, (_, c) => `c${c}`),
    numSamples: spec.samples,
    numFeatures: spec.features,
    features,
    targets,
    source: 'sample' as const,
  };
  const dataset: Dataset = await tableDatasetFromInput(input, Date.now());
  const config: TrainConfig = {
    model: { kind: 'mlp', hidden: spec.hidden.map((units) => ({ units, activation: 'relu' as const })) },
    optimizer: 'adam',
    learningRate: spec.learningRate,
    batchSize: spec.batchSize,
    epochs: spec.epochs,
    validationSplit: spec.validationSplit,
    seed,
  };
  return { spec, dataset, config, configHash: await hashConfig(config) };
}

/** Fresh device data, model and optimizer; the caller disposes them (a session does so itself). */
export function build(w: Workload): Built {
  const data = prepareData(requireTable(w.dataset), w.config);
  const model = buildModel(w.config, { numFeatures: data.numFeatures, numOutputs: data.numOutputs });
  return { data, model, optimizer: buildOptimizer(w.config.optimizer, w.config.learningRate) };
}

/**
 * Waits until the device has run everything queued for the model (GPU backends run behind the
 * CPU), so a time taken next is not skewed by earlier steps. Free on cpu and wasm.
 */
export async function syncDevice(model: tf.LayersModel): Promise<void> {
  // read() hands back the variable itself, which must not be disposed.
  await model.weights[0]!.read().data();
}

/** Optimizer steps in `steps` steps, as samples: partial last batches count their real size. */
export function samplesForSteps(steps: number, numTrain: number, batchSize: number): number {
  const perEpoch = Math.ceil(numTrain / batchSize);
  const epochs = Math.floor(steps / perEpoch);
  return epochs * numTrain + Math.min((steps % perEpoch) * batchSize, numTrain);
}

/** A running job record like the trainer's, for the checkpoint transaction to write. */
export function benchJob(w: Workload<RunSpec>, jobId: string, now: number): JobRecord {
  return {
    id: jobId,
    name: `bench ${w.spec.id}`,
    state: 'running',
    datasetId: w.dataset.id,
    config: w.config,
    configHash: w.configHash,
    createdAt: now,
    queuedAt: now,
    startedAt: now,
    finishedAt: null,
    durationMs: 0,
    error: null,
    notice: null,
    progress: emptyProgress(w.config.epochs),
    history: [],
    backend: null,
    backendReason: null,
    checkpointStep: null,
    resumedFromStep: null,
    crashCount: 0,
  };
}
