// What the loop and fit runs train, for any bench workload: a table workload (the MLPs) gives the
// app's TableSource and tensors from prepareData; an image workload (the CNN preset) gives the
// app's ImageSource and the same split's pixels as one tensor for model.fit; a text workload (the
// recurrent preset) gives the app's TextSource and its first epoch's windows as tensors. One model
// builder (workers/model.ts) for all, so the loop and fit train identical models.
import * as tf from '@tensorflow/tfjs';
import type { ImageDataset } from '../../shared/dataset';
import { requireTable } from '../../shared/dataset';
import { disposeData, prepareData } from '../data';
import { TableSource, type DataSource } from '../data-source';
import { ImageSource, inputTensor, prepareImages, splitImages } from '../images/image-source';
import { cnnInput } from '../images/prepare';
import { buildModel, buildOptimizer } from '../model';
import { objectiveFor, type Objective } from '../objective';
import { SeededRng } from '../../shared/rng';
import { TextSource, textObjective } from '../text/text-source';
import type { RunSpec, Workload } from './workload';

export interface RunParts {
  source: DataSource;
  objective: Objective;
  model: tf.Sequential;
  optimizer: tf.Optimizer;
}

/** Device tensors for a bare `fit` (int32 class ids), and how to free them. */
export interface FitData {
  model: tf.Sequential;
  optimizer: tf.Optimizer;
  numTrain: number;
  numOutputs: number;
  xTrain: tf.Tensor;
  /** Class ids: one per sample, or one per window position for text ([windows, L]). */
  yTrain: tf.Tensor;
  val: [tf.Tensor, tf.Tensor] | null;
  dispose(): void;
}

function cnnOf(dataset: ImageDataset, w: Workload<RunSpec>): { size: number; channels: 1 | 3 } {
  const m = w.config.model;
  if (m.kind !== 'cnn') throw new Error(`The bench trains images with the CNN preset, not a ${m.kind}.`);
  return { size: m.imageSize, channels: dataset.channels };
}

function modelFor(w: Workload<RunSpec>, inputShape: number[], numOutputs: number): { model: tf.Sequential; optimizer: tf.Optimizer } {
  const model = buildModel(w.config, { numFeatures: inputShape[0]!, numOutputs, inputShape });
  return { model, optimizer: buildOptimizer(w.config.optimizer, w.config.learningRate) };
}

/** A fresh source, objective, model and optimizer; a session disposes them itself. */
export function runParts(w: Workload<RunSpec>): RunParts {
  if (w.dataset.kind === 'text') {
    const source = new TextSource(w.dataset, w.config);
    return { source, objective: textObjective(source.numOutputs), ...modelFor(w, source.inputShape, source.numOutputs) };
  }
  if (w.dataset.kind === 'images') {
    const m = w.config.model;
    if (m.kind !== 'cnn') throw new Error(`The bench trains images with the CNN preset, not a ${m.kind}.`);
    const source = new ImageSource(w.dataset, w.config, cnnInput(m.imageSize, w.dataset.channels), m.augment);
    return { source, objective: objectiveFor('classification', source.numOutputs), ...modelFor(w, source.inputShape, source.numOutputs) };
  }
  const data = prepareData(requireTable(w.dataset), w.config);
  return { source: new TableSource(data), objective: objectiveFor(data.task, data.numOutputs), ...modelFor(w, [data.numFeatures], data.numOutputs) };
}

/** The same split as `runParts`, as whole tensors for `fit` (images unaugmented: fit cannot augment). */
export function fitData(w: Workload<RunSpec>): FitData {
  if (w.dataset.kind === 'text') return textFitData(w, new TextSource(w.dataset, w.config));
  if (w.dataset.kind === 'images') {
    const set = w.dataset.images;
    const { size, channels } = cnnOf(w.dataset, w);
    const { train, val } = splitImages(w.dataset, w.config);
    const input = cnnInput(size, channels);
    const pixels = (rows: Uint32Array): tf.Tensor => tf.tidy(() => inputTensor(prepareImages(set, rows, size, channels), rows.length, input));
    const labels = (rows: Uint32Array): tf.Tensor1D => tf.tensor1d(Int32Array.from(rows, (r) => set.labels[r]!), 'int32');
    const xTrain = pixels(train);
    const yTrain = labels(train);
    const v: [tf.Tensor, tf.Tensor1D] | null = val.length > 0 ? [pixels(val), labels(val)] : null;
    const built = modelFor(w, [size, size, channels], set.classNames.length);
    return {
      ...built, numTrain: train.length, numOutputs: set.classNames.length, xTrain, yTrain, val: v,
      dispose: () => {
        tf.dispose([xTrain, yTrain, ...(v ?? [])]);
        built.optimizer.dispose();
        built.model.dispose();
      },
    };
  }
  const data = prepareData(requireTable(w.dataset), w.config);
  const built = modelFor(w, [data.numFeatures], data.numOutputs);
  return {
    ...built, numTrain: data.numTrain, numOutputs: data.numOutputs, xTrain: data.xTrain, yTrain: data.yTrain,
    val: data.xVal && data.yVal ? [data.xVal, data.yVal] : null,
    dispose: () => {
      disposeData(data);
      built.optimizer.dispose();
      built.model.dispose();
    },
  };
}

/**
 * A text's windows for `fit`: the ones the loop's first epoch trains on (a fresh session draws them
 * from the config's seed), which fit then reshuffles every epoch; validation as the loop's.
 */
function textFitData(w: Workload<RunSpec>, source: TextSource): FitData {
  source.beginEpoch(SeededRng.fromSeed(w.config.seed));
  const train = source.trainBatch(0, source.numTrain);
  const chunks = [...source.validationChunks(Math.max(1, source.numVal))];
  const val: [tf.Tensor, tf.Tensor] | null = chunks[0] ? [chunks[0].x, chunks[0].y] : null;
  const built = modelFor(w, source.inputShape, source.numOutputs);
  return {
    ...built, numTrain: source.numTrain, numOutputs: source.numOutputs, xTrain: train.x, yTrain: train.y, val,
    dispose: () => {
      tf.dispose([train.x, train.y, ...(val ?? [])]);
      built.optimizer.dispose();
      built.model.dispose();
    },
  };
}
