// Character windows for the step loop. The text's first part trains and its last `validationSplit`
// is held out (never shuffled into training). Each epoch draws its window starts from the run's
// RNG in `beginEpoch`, so the window cursor is (RNG state at the epoch's start, batch index): both
// are in every checkpoint, and a resumed epoch draws exactly the same windows. A window of L
// characters trains the next character at each of its L positions. The same windows train every
// text model kind (LSTM, GRU, transformer): a kind adds a model, not a data path.
import * as tf from '@tensorflow/tfjs';
import { isTextModel, type TextModelConfig, type TrainConfig } from '../../shared/config';
import { mixSeed } from '../../shared/image-math';
import type { TextDataset } from '../../shared/dataset';
import type { SeededRng } from '../../shared/rng';
import { CharTokenizer, textFitsSequence, textSplit, TextError } from '../../shared/text';
import type { Batch, DataSource, Preprocessing } from '../data-source';
import { setDropoutSeed } from '../images/seeded-dropout';
import type { Objective } from '../objective';

/** What a checkpoint and an export carry to turn text into the model's input again. */
export interface TextEncoding {
  kind: 'text';
  /** Token i + 1 is `vocabulary[i]`; token 0 is the unknown character. */
  vocabulary: string[];
  sequenceLength: number;
}

/** Salts the transformer's dropout seed apart from anything else drawn from a window start. */
const DROPOUT_SALT = 0x7e47;

export class TextSource implements DataSource {
  readonly task = 'classification' as const;
  readonly inputShape: number[];
  readonly numOutputs: number;
  /** Windows per epoch: as many as cover the training part once. */
  readonly numTrain: number;
  readonly numVal: number;
  readonly preprocessing: Preprocessing;
  readonly tokenizer: CharTokenizer;
  readonly sequenceLength: number;
  #train: Int32Array;
  #val: Int32Array;
  #starts: Uint32Array = new Uint32Array(0);

  constructor(dataset: Pick<TextDataset, 'text' | 'vocabulary' | 'name'>, config: TrainConfig) {
    const m = textModelOf(config);
    const L = m.sequenceLength;
    this.tokenizer = new CharTokenizer(dataset.vocabulary);
    const { ids } = this.tokenizer.encode(dataset.text);
    const problems = textFitsSequence(ids.length, config.validationSplit, L, `“${dataset.name}”`);
    if (problems.length > 0) throw new TextError(problems.join(' '));
    const { train } = textSplit(ids.length, config.validationSplit);
    this.#train = ids.subarray(0, train);
    this.#val = ids.subarray(train);
    this.sequenceLength = L;
    this.inputShape = [L];
    this.numOutputs = this.tokenizer.size;
    this.numTrain = textWindowsPerEpoch(ids.length, config);
    this.numVal = this.#val.length > L ? Math.floor((this.#val.length - 1) / L) : 0;
    const encoding: TextEncoding = { kind: 'text', vocabulary: [...dataset.vocabulary], sequenceLength: L };
    this.preprocessing = { normalization: null, encoding };
  }

  beginEpoch(rng: SeededRng): void {
    // A start s trains on characters s … s + L and needs s + L to be in the training part.
    const span = this.#train.length - this.sequenceLength;
    this.#starts = new Uint32Array(this.numTrain);
    for (let i = 0; i < this.numTrain; i++) this.#starts[i] = rng.nextInt(span);
  }

  /** The window starts of the current epoch (for tests). */
  get windowStarts(): Uint32Array {
    return this.#starts;
  }

  trainBatch(index: number, batchSize: number): Batch {
    const from = index * batchSize;
    const starts = this.#starts.subarray(from, Math.min(from + batchSize, this.numTrain));
    // The transformer's dropout masks: a function of the epoch's windows (drawn from the
    // checkpointed RNG) and the batch index, so a resumed epoch drops the same units. It draws
    // nothing from the RNG, so the recurrent models' windows stay what they were.
    setDropoutSeed(mixSeed(this.#starts[0] ?? 0, index, DROPOUT_SALT));
    return windows(this.#train, starts, this.sequenceLength);
  }

  *validationChunks(rows: number): Iterable<Batch> {
    const L = this.sequenceLength;
    for (let first = 0; first < this.numVal; first += rows) {
      const n = Math.min(rows, this.numVal - first);
      yield windows(this.#val, Uint32Array.from({ length: n }, (_, i) => (first + i) * L), L);
    }
  }

  dispose(): void {
    // Token ids live in worker memory; batches are made per step inside the loop's tidy.
  }
}

/** Windows of L inputs and the L characters that follow each input, as device tensors. */
function windows(ids: Int32Array, starts: ArrayLike<number>, L: number): Batch {
  const n = starts.length;
  const x = new Float32Array(n * L);
  const y = new Int32Array(n * L);
  for (let i = 0; i < n; i++) {
    const s = starts[i]!;
    for (let t = 0; t < L; t++) {
      x[i * L + t] = ids[s + t]!;
      y[i * L + t] = ids[s + t + 1]!;
    }
  }
  return { x: tf.tensor2d(x, [n, L]), y: tf.tensor2d(y, [n, L], 'int32'), size: n };
}

/** Training windows per epoch for a text of `characters` (what `TextSource.numTrain` is). */
export function textWindowsPerEpoch(characters: number, config: TrainConfig): number {
  const L = isTextModel(config.model) ? config.model.sequenceLength : 1;
  return Math.max(1, Math.floor((textSplit(characters, config.validationSplit).train - 1) / L));
}

export function textModelOf(config: TrainConfig): TextModelConfig {
  if (!isTextModel(config.model)) throw new TextError(`A text trains with a character model (LSTM, GRU or transformer), not a ${config.model.kind.toUpperCase()}.`);
  return config.model;
}

/**
 * Softmax cross-entropy of the next character at every window position. Sums are per window
 * (mean over its positions), so the loop's per-sample means are per character: `loss` in nats,
 * `bpc` = loss / ln 2 bits per character, `acc` the share of next characters guessed by argmax.
 */
export function textObjective(vocabularySize: number): Objective {
  return {
    sums: ['loss', 'metric'],
    headline: 'bpc',
    loss: (output, y) => tf.losses.softmaxCrossEntropy(tf.oneHot(y.cast<tf.Tensor2D>('int32'), vocabularySize), output),
    batchSums: (output, y, meanLoss, size) =>
      tf.tidy(() => {
        const positions = output.shape[1]!;
        const correct = tf.equal(tf.argMax(output, -1), y).cast('float32').sum().div(positions);
        return tf.stack([meanLoss.mul(size), correct]) as tf.Tensor1D;
      }),
    metrics: (s, n) => ({ loss: s.loss! / n, acc: s.metric! / n, bpc: s.loss! / n / Math.LN2 }),
  };
}
