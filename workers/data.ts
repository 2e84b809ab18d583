// Turns a stored table into device tensors for training: the job's plan (target, column types,
// missing values), a seeded train/validation split of the usable rows, and the encoding fitted on
// the training rows only (so validation never leaks into it).
import * as tf from '@tensorflow/tfjs';
import type { TrainConfig } from '../shared/config';
import type { TableDataset } from '../shared/dataset';
import { SeededRng } from '../shared/rng';
import { encodeRows, fitEncoding, TableError, usableRows, validatePlan, type TableEncoding, type TablePlan } from '../shared/table';

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
  /** int32 class ids or float32 (standardized) values. */
  yTrain: tf.Tensor1D;
  xVal: tf.Tensor2D | null;
  yVal: tf.Tensor1D | null;
  /** Per model input, `(x - mean) / std`; a one-hot input has mean 0 and std 1. */
  normalization: Normalization;
  encoding: TableEncoding;
  /** Table rows of the validation split, in order (for evaluation). */
  valRows: Uint32Array;
}

/** The plan a job trains with: its own, or (jobs from before plans existed) its dataset's. */
export function planFor(dataset: TableDataset, config: TrainConfig): TablePlan {
  return config.table ?? dataset.defaultPlan;
}

export function splitRows(numSamples: number, validationSplit: number, seed: number): { train: Uint32Array; val: Uint32Array } {
  const perm = SeededRng.fromSeed((seed ^ SPLIT_SEED_SALT) >>> 0).permutation(numSamples);
  const numVal = Math.min(numSamples - 1, Math.floor(numSamples * validationSplit));
  return { val: perm.slice(0, numVal).sort(), train: perm.slice(numVal).sort() };
}

/** The table rows a job trains and validates on. */
export function splitTable(dataset: TableDataset, config: TrainConfig): { plan: TablePlan; train: Uint32Array; val: Uint32Array } {
  const plan = planFor(dataset, config);
  const problems = validatePlan(dataset.table, plan);
  if (problems.length > 0) throw new TableError(problems.join(' '));
  const { rows } = usableRows(dataset.table, plan);
  const split = splitRows(rows.length, config.validationSplit, config.seed);
  return { plan, train: split.train.map((i) => rows[i]!), val: split.val.map((i) => rows[i]!) };
}

/** Per-input statistics of an encoding, in the `(x - mean) / std` form exports describe. */
export function normalizationOf(encoding: TableEncoding): Normalization {
  const mean: number[] = [];
  const std: number[] = [];
  for (const f of encoding.features) {
    if (f.type === 'numeric') {
      mean.push(f.mean);
      std.push(f.std);
    } else {
      const width = f.categories.length + (f.other ? 1 : 0);
      for (let i = 0; i < width; i++) {
        mean.push(0);
        std.push(1);
      }
    }
  }
  return { mean, std };
}

export function numOutputsOf(encoding: TableEncoding): number {
  return 'classNames' in encoding.target ? encoding.target.classNames.length : 1;
}

export function prepareData(dataset: TableDataset, config: TrainConfig): PreparedData {
  const { plan, train, val } = splitTable(dataset, config);
  const encoding = fitEncoding(dataset.table, plan, train);
  const numFeatures = encoding.inputNames.length;
  const t = encodeRows(dataset.table, encoding, train);
  const v = val.length > 0 ? encodeRows(dataset.table, encoding, val) : null;
  const toY = (y: Float32Array): tf.Tensor1D =>
    plan.task === 'classification' ? tf.tensor1d(Int32Array.from(y), 'int32') : tf.tensor1d(y, 'float32');
  return {
    task: plan.task,
    numFeatures,
    numOutputs: numOutputsOf(encoding),
    numTrain: train.length,
    numVal: val.length,
    xTrain: tf.tensor2d(t.x, [train.length, numFeatures]),
    yTrain: toY(t.y),
    xVal: v ? tf.tensor2d(v.x, [val.length, numFeatures]) : null,
    yVal: v ? toY(v.y) : null,
    normalization: normalizationOf(encoding),
    encoding,
    valRows: val,
  };
}

export function disposeData(p: PreparedData): void {
  tf.dispose([p.xTrain, p.yTrain, ...(p.xVal ? [p.xVal] : []), ...(p.yVal ? [p.yVal] : [])]);
}
