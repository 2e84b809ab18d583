// Transfer learning's data source: every image of the split goes through the frozen base once
// (workers/images/base-model.ts), and the head trains on the 1,280 features per image, shuffled
// per epoch like table rows. No augmentation: the features are computed once (as Teachable
// Machine does), which is what makes training take seconds.
import * as tf from '@tensorflow/tfjs';
import type { TrainConfig, TransferConfig } from '../../shared/config';
import type { ImageDataset } from '../../shared/dataset';
import type { SeededRng } from '../../shared/rng';
import type { Batch, DataSource, Preprocessing } from '../data-source';
import { BASE_FEATURES, extractFeatures } from './base-model';
import { splitImages } from './image-source';

export class FeatureSource implements DataSource {
  readonly task = 'classification' as const;
  readonly inputShape = [BASE_FEATURES];
  readonly numOutputs: number;
  readonly numTrain: number;
  readonly numVal: number;
  readonly preprocessing: Preprocessing = { normalization: null };
  readonly valRows: Uint32Array;
  #xTrain: tf.Tensor2D;
  #yTrain: tf.Tensor1D;
  #xVal: tf.Tensor2D;
  #yVal: tf.Tensor1D;
  #perm: Uint32Array = new Uint32Array(0);

  private constructor(numOutputs: number, val: Uint32Array, x: tf.Tensor2D, y: tf.Tensor1D, xv: tf.Tensor2D, yv: tf.Tensor1D) {
    this.numOutputs = numOutputs;
    this.numTrain = x.shape[0];
    this.numVal = xv.shape[0];
    this.valRows = val;
    this.#xTrain = x;
    this.#yTrain = y;
    this.#xVal = xv;
    this.#yVal = yv;
  }

  /** Runs the base over the split's images (the slow part: about 40 ms an image at 96 px on WASM). */
  static async create(dataset: ImageDataset, config: TrainConfig, onProgress?: (done: number, total: number) => void): Promise<FeatureSource> {
    const m = config.model as TransferConfig;
    const set = dataset.images;
    const { train, val } = splitImages(dataset, config);
    const total = train.length + val.length;
    const x = await extractFeatures(set, train, m.imageSize, (n) => onProgress?.(n, total));
    try {
      const xv = await extractFeatures(set, val, m.imageSize, (n) => onProgress?.(train.length + n, total));
      const labels = (rows: Uint32Array): tf.Tensor1D => tf.tensor1d(Int32Array.from(rows, (r) => set.labels[r]!), 'int32');
      return new FeatureSource(set.classNames.length, val, x, labels(train), xv, labels(val));
    } catch (err) {
      x.dispose();
      throw err;
    }
  }

  beginEpoch(rng: SeededRng): void {
    this.#perm = rng.permutation(this.numTrain);
  }

  trainBatch(index: number, batchSize: number): Batch {
    const start = index * batchSize;
    const rows = this.#perm.subarray(start, Math.min(start + batchSize, this.numTrain));
    const idx = tf.tensor1d(Int32Array.from(rows), 'int32');
    return { x: tf.gather(this.#xTrain, idx), y: tf.gather(this.#yTrain, idx), size: rows.length };
  }

  *validationChunks(rows: number): Iterable<Batch> {
    for (let start = 0; start < this.numVal; start += rows) {
      const size = Math.min(rows, this.numVal - start);
      yield { x: this.#xVal.slice([start, 0], [size, -1]), y: this.#yVal.slice([start], [size]), size };
    }
  }

  dispose(): void {
    tf.dispose([this.#xTrain, this.#yTrain, this.#xVal, this.#yVal]);
  }
}
