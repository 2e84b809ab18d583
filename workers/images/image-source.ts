// Image batches for the step loop. A CNN's source keeps the split's pixels as bytes in worker
// memory (resized once to the model's size) and builds each batch's tensor on demand, augmented
// with a per-(epoch, batch) RNG: the epoch's seed is drawn from the run's RNG in `beginEpoch`, so
// a resumed epoch, which replays `beginEpoch` from the checkpointed state, augments (and drops out)
// exactly as before. Inputs are pixels × scale + offset (0–1 for a CNN).
import * as tf from '@tensorflow/tfjs';
import type { TrainConfig } from '../../shared/config';
import type { ImageDataset } from '../../shared/dataset';
import { augmentInto, batchRng, drawAugment, isIdentity, mixSeed, resizeSquare } from '../../shared/image-math';
import { NO_AUGMENTATION, type Augmentation, type ImageSet } from '../../shared/image-types';
import type { SeededRng } from '../../shared/rng';
import { splitRows } from '../data';
import type { Batch, DataSource, Preprocessing } from '../data-source';
import { setDropoutSeed } from './seeded-dropout';

/** Salts the dropout seed apart from the augmentation's. */
const DROPOUT_SALT = 0xd209;
/** Validation images per forward pass: a conv net's activations grow with the image count, and the
 * loop's table-sized chunks (4,096 rows) would need hundreds of MB. */
export const MAX_IMAGE_CHUNK = 128;

/** How a model's input is made from stored pixels. */
export interface ImageInput {
  /** Side of the model's input, in px. */
  size: number;
  channels: 1 | 3;
  /** input = pixel × scale + offset. */
  scale: number;
  offset: number;
}

/** Pixels of some images, resized to `size` and converted to `channels` (grey is repeated into RGB). */
export function prepareImages(set: ImageSet, rows: ArrayLike<number>, size: number, channels: 1 | 3): Uint8Array {
  const from = set.size * set.size * set.channels;
  const to = size * size * channels;
  const out = new Uint8Array(rows.length * to);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    let px = resizeSquare(set.pixels.subarray(r * from, (r + 1) * from), set.size, size, set.channels);
    if (set.channels !== channels) px = convertChannels(px, set.channels, channels);
    out.set(px, i * to);
  }
  return out;
}

function convertChannels(px: Uint8Array, from: 1 | 3, to: 1 | 3): Uint8Array {
  const n = px.length / from;
  const out = new Uint8Array(n * to);
  for (let i = 0; i < n; i++) {
    if (to === 3) out[3 * i] = out[3 * i + 1] = out[3 * i + 2] = px[i]!;
    else out[i] = Math.round(0.299 * px[3 * i]! + 0.587 * px[3 * i + 1]! + 0.114 * px[3 * i + 2]!);
  }
  return out;
}

/** Stored pixels as model inputs (n × size × size × channels floats), inside the caller's tidy. */
export function inputTensor(pixels: Uint8Array | Float32Array, count: number, input: ImageInput): tf.Tensor4D {
  const floats = pixels instanceof Float32Array ? pixels : Float32Array.from(pixels);
  const x = tf.tensor4d(floats, [count, input.size, input.size, input.channels]);
  return input.offset === 0 ? x.mul(input.scale) : x.mul(input.scale).add(input.offset);
}

/** The split of an image dataset a job trains and validates on (image indices). */
export function splitImages(dataset: ImageDataset, config: TrainConfig): { train: Uint32Array; val: Uint32Array } {
  return splitRows(dataset.rows, config.validationSplit, config.seed);
}

export class ImageSource implements DataSource {
  readonly task = 'classification' as const;
  readonly inputShape: number[];
  readonly numOutputs: number;
  readonly numTrain: number;
  readonly numVal: number;
  readonly preprocessing: Preprocessing = { normalization: null };
  readonly input: ImageInput;
  readonly valRows: Uint32Array;
  #train: Uint8Array;
  #trainLabels: Int32Array;
  #val: Uint8Array;
  #valLabels: Int32Array;
  #augment: Augmentation;
  #perm: Uint32Array = new Uint32Array(0);
  #epochSeed = 0;

  constructor(dataset: ImageDataset, config: TrainConfig, input: Omit<ImageInput, 'channels'>, augment: Augmentation = NO_AUGMENTATION) {
    const set = dataset.images;
    const { train, val } = splitImages(dataset, config);
    this.input = { ...input, channels: set.channels };
    this.inputShape = [input.size, input.size, set.channels];
    this.numOutputs = set.classNames.length;
    this.numTrain = train.length;
    this.numVal = val.length;
    this.valRows = val;
    this.#train = prepareImages(set, train, input.size, set.channels);
    this.#trainLabels = Int32Array.from(train, (r) => set.labels[r]!);
    this.#val = prepareImages(set, val, input.size, set.channels);
    this.#valLabels = Int32Array.from(val, (r) => set.labels[r]!);
    this.#augment = augment;
  }

  beginEpoch(rng: SeededRng): void {
    this.#perm = rng.permutation(this.numTrain);
    this.#epochSeed = rng.nextUint32();
  }

  trainBatch(index: number, batchSize: number): Batch {
    const start = index * batchSize;
    const rows = this.#perm.subarray(start, Math.min(start + batchSize, this.numTrain));
    const { size, channels } = this.input;
    const per = size * size * channels;
    const x = new Float32Array(rows.length * per);
    const rng = batchRng(this.#epochSeed, index);
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i]!;
      const d = drawAugment(rng, this.#augment, size);
      if (isIdentity(d)) for (let k = 0; k < per; k++) x[i * per + k] = this.#train[r * per + k]!;
      else augmentInto(this.#train, r * per, size, channels, d, x, i * per);
    }
    setDropoutSeed(mixSeed(this.#epochSeed, index, DROPOUT_SALT));
    const y = tf.tensor1d(Int32Array.from(rows, (r) => this.#trainLabels[r]!), 'int32');
    return { x: inputTensor(x, rows.length, this.input), y, size: rows.length };
  }

  *validationChunks(maxRows: number): Iterable<Batch> {
    const rows = Math.min(maxRows, MAX_IMAGE_CHUNK);
    const per = this.input.size * this.input.size * this.input.channels;
    for (let start = 0; start < this.numVal; start += rows) {
      const n = Math.min(rows, this.numVal - start);
      yield {
        x: inputTensor(this.#val.subarray(start * per, (start + n) * per), n, this.input),
        y: tf.tensor1d(this.#valLabels.subarray(start, start + n), 'int32'),
        size: n,
      };
    }
  }

  dispose(): void {
    // Only bytes in worker memory: nothing on the device to free.
  }
}
