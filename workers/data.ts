// Turns a stored dataset into device tensors for training: a seeded train/validation split and
// z-score normalisation from the training rows only (so validation never leaks into it).
import * as tf from '@tensorflow/tfjs';
import type { TrainConfig } from '../shared/config';
import type { Dataset } from '../shared/dataset';
import { SeededRng } from '../shared/rng';

/** Offsets the split's RNG from the shuffle's, so changing one never changes the other. */
const SPLIT_SEED_SALT = 0x5eed5eed;

export interface Normalization {
  mean: number[];
  std: number[];
}

export interface PreparedData {
  task: 'classification' | 'regression';
  numFeatures: number;
  numOutputs: number;
  numTrain: number;
  numVal: number;
  xTrain: tf.Tensor2D;
  /** int32 class ids or float32 values. */
  yTrain: tf.Tensor1D;
  xVal: tf.Tensor2D | null;
  yVal: tf.Tensor1D | null;
  normalization: Normalization;
}

export function computeNormalization(features: Float32Array, rows: Uint32Array, numFeatures: number): Normalization {
  const mean = new Array<number>(numFeatures).fill(0);
  const std = new Array<number>(numFeatures).fill(0);
  for (const r of rows) for (let j = 0; j < numFeatures; j++) mean[j]! += features[r * numFeatures + j]!;
  for (let j = 0; j < numFeatures; j++) mean[j] = mean[j]! / rows.length;
  for (const r of rows)
    for (let j = 0; j < numFeatures; j++) std[j]! += (features[r * numFeatures + j]! - mean[j]!) ** 2;
  for (let j = 0; j < numFeatures; j++) {
    const s = Math.sqrt(std[j]! / rows.length);
    // A constant column carries no information; dividing by 1 keeps it finite.
    std[j] = s > 1e-12 ? s : 1;
  }
  return { mean, std };
}

function gatherRows(d: Dataset, rows: Uint32Array, norm: Normalization): { x: Float32Array; y: Float32Array } {
  const f = d.numFeatures;
  const x = new Float32Array(rows.length * f);
  const y = new Float32Array(rows.length);
  rows.forEach((r, i) => {
    for (let j = 0; j < f; j++) x[i * f + j] = (d.features[r * f + j]! - norm.mean[j]!) / norm.std[j]!;
    y[i] = d.targets[r]!;
  });
  return { x, y };
}

export function splitRows(numSamples: number, validationSplit: number, seed: number): { train: Uint32Array; val: Uint32Array } {
  const perm = SeededRng.fromSeed((seed ^ SPLIT_SEED_SALT) >>> 0).permutation(numSamples);
  const numVal = Math.min(numSamples - 1, Math.floor(numSamples * validationSplit));
  return { val: perm.slice(0, numVal).sort(), train: perm.slice(numVal).sort() };
}

export function prepareData(d: Dataset, config: TrainConfig): PreparedData {
  const { train, val } = splitRows(d.numSamples, config.validationSplit, config.seed);
  const normalization = computeNormalization(d.features, train, d.numFeatures);
  const t = gatherRows(d, train, normalization);
  const v = val.length > 0 ? gatherRows(d, val, normalization) : null;
  const yDtype = d.task === 'classification' ? 'int32' : 'float32';
  const toY = (y: Float32Array): tf.Tensor1D =>
    yDtype === 'int32' ? tf.tensor1d(Int32Array.from(y), 'int32') : tf.tensor1d(y, 'float32');
  return {
    task: d.task,
    numFeatures: d.numFeatures,
    numOutputs: d.task === 'classification' ? d.classNames.length : 1,
    numTrain: train.length,
    numVal: val.length,
    xTrain: tf.tensor2d(t.x, [train.length, d.numFeatures]),
    yTrain: toY(t.y),
    xVal: v ? tf.tensor2d(v.x, [val.length, d.numFeatures]) : null,
    yVal: v ? toY(v.y) : null,
    normalization,
  };
}

export function disposeData(p: PreparedData): void {
  tf.dispose([p.xTrain, p.yTrain, ...(p.xVal ? [p.xVal] : []), ...(p.yVal ? [p.yVal] : [])]);
}
