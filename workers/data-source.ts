// Where the step loop gets its batches. A data source turns the run's RNG into an epoch's order
// (a shuffle of table rows, of images, or of image features; or text windows) and hands out device
// batches. Its whole state is a function of the RNG state at the epoch's start and the batch
// index, both of which the session checkpoints, so every kind of data resumes exactly through
// one checkpoint format.
import * as tf from '@tensorflow/tfjs';
import { isTextModel, type TrainConfig } from '../shared/config';
import type { Dataset } from '../shared/dataset';
import type { SeededRng } from '../shared/rng';
import { disposeData, prepareData, type Normalization, type PreparedData } from './data';
import { prepareImageSource } from './images/prepare';
import { TextSource, textObjective } from './text/text-source';
import { objectiveFor, type Objective, type Task } from './objective';

export interface Batch {
  x: tf.Tensor;
  y: tf.Tensor;
  size: number;
}

/** What a checkpoint and an exported model must carry to apply the same input transform again. */
export interface Preprocessing {
  normalization: Normalization | null;
  /** A table's fitted column encoding (shared/table.ts), when the data came from columns. */
  encoding?: unknown;
}

export interface DataSource {
  readonly task: Task;
  /** Shape of one input sample, e.g. [numFeatures]. */
  readonly inputShape: number[];
  readonly numOutputs: number;
  /** Training samples per epoch and validation samples. */
  readonly numTrain: number;
  readonly numVal: number;
  readonly preprocessing: Preprocessing;
  /** Draws this epoch's order from the run's RNG. Called at every epoch start, and on resume. */
  beginEpoch(rng: SeededRng): void;
  /** Training batch `index` of the current epoch. Call inside tf.tidy: the caller owns the tensors. */
  trainBatch(index: number, batchSize: number): Batch;
  /** The validation set in chunks of at most `rows`, in a fixed order (inside tf.tidy, too). */
  validationChunks(rows: number): Iterable<Batch>;
  dispose(): void;
}

/** Rows of a prepared (split, normalized, on-device) table, shuffled per epoch. */
export class TableSource implements DataSource {
  readonly task: Task;
  readonly inputShape: number[];
  readonly numOutputs: number;
  readonly numTrain: number;
  readonly numVal: number;
  readonly preprocessing: Preprocessing;
  #data: PreparedData;
  #perm: Uint32Array = new Uint32Array(0);

  constructor(data: PreparedData, encoding?: unknown) {
    this.#data = data;
    this.task = data.task;
    this.inputShape = [data.numFeatures];
    this.numOutputs = data.numOutputs;
    this.numTrain = data.numTrain;
    this.numVal = data.numVal;
    this.preprocessing = { normalization: data.normalization, ...(encoding === undefined ? {} : { encoding }) };
  }

  get data(): PreparedData {
    return this.#data;
  }

  beginEpoch(rng: SeededRng): void {
    this.#perm = rng.permutation(this.numTrain);
  }

  trainBatch(index: number, batchSize: number): Batch {
    const start = index * batchSize;
    const rows = this.#perm.subarray(start, Math.min(start + batchSize, this.numTrain));
    const idx = tf.tensor1d(Int32Array.from(rows), 'int32');
    return { x: tf.gather(this.#data.xTrain, idx), y: tf.gather(this.#data.yTrain, idx), size: rows.length };
  }

  *validationChunks(rows: number): Iterable<Batch> {
    const { xVal, yVal, numVal } = this.#data;
    if (!xVal || !yVal) return;
    for (let start = 0; start < numVal; start += rows) {
      const size = Math.min(rows, numVal - start);
      yield { x: xVal.slice([start, 0], [size, -1]), y: yVal.slice([start], [size]), size };
    }
  }

  dispose(): void {
    disposeData(this.#data);
  }
}

/**
 * The source and objective a dataset trains with: one place that knows every kind. Asynchronous,
 * because transfer learning first runs every image through its base model.
 */
export async function prepareSource(
  dataset: Dataset, config: TrainConfig, onProgress?: (done: number, total: number) => void,
): Promise<{ source: DataSource; objective: Objective }> {
  if (dataset.kind === 'images') return prepareImageSource(dataset, config, onProgress);
  if (dataset.kind === 'text') {
    const source = new TextSource(dataset, config);
    return { source, objective: textObjective(source.numOutputs) };
  }
  if (isTextModel(config.model)) throw new Error(`“${dataset.name}” is a table: train it with an MLP, not a text model.`);
  if (config.model.kind !== 'mlp') throw new Error(`“${dataset.name}” is a table: train it with an MLP, not a ${config.model.kind.toUpperCase()}.`);
  const data = prepareData(dataset, config);
  const target = data.encoding.target;
  return {
    source: new TableSource(data, data.encoding),
    objective: objectiveFor(data.task, data.numOutputs, 'std' in target ? target.std : 1),
  };
}
