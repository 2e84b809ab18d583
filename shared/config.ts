// Training configuration: what the user sets up, and its canonical hash. Plain TypeScript.
import { sha256Hex } from './hash';
import type { TablePlan } from './table-types';
import type { Augmentation } from './image-types';

export const ACTIVATIONS = ['relu', 'tanh', 'sigmoid', 'elu', 'linear'] as const;
export type Activation = (typeof ACTIVATIONS)[number];

export const OPTIMIZERS = ['adam', 'sgd', 'momentum', 'rmsprop'] as const;
export type OptimizerName = (typeof OPTIMIZERS)[number];

export interface HiddenLayer {
  units: number;
  activation: Activation;
}

export interface MlpConfig {
  kind: 'mlp';
  hidden: HiddenLayer[];
}

/** One convolution block of a CNN: a 3×3 (or `kernelSize`) convolution with ReLU, then 2×2 max pooling. */
export interface ConvBlock {
  filters: number;
  kernelSize: number;
}

/** A small CNN trained from scratch on images (conv, pooling, dropout, dense). */
export interface CnnConfig {
  kind: 'cnn';
  /** Side of the model's square input, in px; stored images are resized to it. */
  imageSize: number;
  blocks: ConvBlock[];
  /** Units of the dense layer before the output; 0 for none. */
  dense: number;
  /** Dropout rate before the dense layer and before the output, 0 to 0.8. */
  dropout: number;
  augment: Augmentation;
}

/** Transfer learning: a frozen pretrained base computes features once; a small head trains on them. */
export interface TransferConfig {
  kind: 'transfer';
  base: 'mobilenet-v2';
  /** Side of the base's square input, in px. */
  imageSize: number;
  /** Units of the head's hidden layer (Teachable Machine uses 100). */
  hidden: number;
}

/** A recurrent character model: embedding, stacked LSTM or GRU layers, then next-character logits at every position. */
export interface RnnConfig {
  kind: 'rnn';
  cell: 'lstm' | 'gru';
  /** Recurrent layers, 1 to 4. */
  layers: number;
  /** Units of each recurrent layer. */
  units: number;
  /** Width of the character embedding. */
  embedding: number;
  /** Characters in one training window (the model predicts the next character at each of them). */
  sequenceLength: number;
}

export const RNN_CELLS = ['lstm', 'gru'] as const;

/**
 * A small causal transformer over characters (GPT-style, pre-norm): a token embedding plus a
 * learned position embedding, `blocks` blocks of causal multi-head self-attention and a ReLU MLP
 * (each with a residual), a final layer norm, then next-character logits at every position.
 */
export interface TransformerConfig {
  kind: 'transformer';
  /** Transformer blocks, 1 to 8. */
  blocks: number;
  /** Attention heads per block; `dModel` must be a multiple of it. */
  heads: number;
  /** Width of the embeddings and of every block's input and output. */
  dModel: number;
  /** Units of each block's feed-forward hidden layer (often 4 × dModel). */
  ffUnits: number;
  /** Dropout rate on each residual branch while training, 0 to 0.5. */
  dropout: number;
  /** Characters in one training window; also the most positions the model has embeddings for. */
  sequenceLength: number;
}

/** The model kinds that train on a text: next-character models over windows of characters. */
export type TextModelConfig = RnnConfig | TransformerConfig;

export function isTextModel(m: ModelConfig): m is TextModelConfig {
  return m.kind === 'rnn' || m.kind === 'transformer';
}

export type ModelConfig = MlpConfig | CnnConfig | TransferConfig | RnnConfig | TransformerConfig;
export type ModelKind = ModelConfig['kind'];

export interface TrainConfig {
  model: ModelConfig;
  optimizer: OptimizerName;
  learningRate: number;
  batchSize: number;
  epochs: number;
  /** Fraction of samples held out for validation, 0 to 0.5. */
  validationSplit: number;
  seed: number;
  /**
   * How a table's columns are used: target, task, column types, missing values. Absent on jobs
   * made before tables had plans; those train with their dataset's `defaultPlan`.
   */
  table?: TablePlan;
}

export const DEFAULT_CONFIG: TrainConfig = {
  model: {
    kind: 'mlp',
    hidden: [
      { units: 16, activation: 'relu' },
      { units: 16, activation: 'relu' },
    ],
  },
  optimizer: 'adam',
  learningRate: 0.01,
  batchSize: 16,
  epochs: 50,
  validationSplit: 0.2,
  seed: 42,
};

/** Returns a list of human-readable problems; empty means valid. */
export function validateConfig(c: TrainConfig): string[] {
  const problems: string[] = [];
  problems.push(...validateModel(c.model));
  if (!OPTIMIZERS.includes(c.optimizer)) problems.push(`Unknown optimizer "${c.optimizer}".`);
  if (!(c.learningRate > 0 && c.learningRate <= 10)) problems.push('Learning rate must be above 0 and at most 10.');
  if (!Number.isInteger(c.batchSize) || c.batchSize < 1 || c.batchSize > 65536)
    problems.push('Batch size must be a whole number from 1 to 65536.');
  if (!Number.isInteger(c.epochs) || c.epochs < 1 || c.epochs > 100000)
    problems.push('Epochs must be a whole number from 1 to 100000.');
  if (!(c.validationSplit >= 0 && c.validationSplit <= 0.5)) problems.push('Validation split must be from 0 to 0.5.');
  if (!Number.isInteger(c.seed) || c.seed < 0 || c.seed > 0xffffffff)
    problems.push('Seed must be a whole number from 0 to 4294967295.');
  return problems;
}

const whole = (v: number, lo: number, hi: number): boolean => Number.isInteger(v) && v >= lo && v <= hi;

/** The smallest CNN input, in px: each block halves the side, and a side must stay at least 2 px. */
export function minCnnImageSize(blocks: number): number {
  return 2 ** (blocks + 1);
}

export function validateModel(m: ModelConfig): string[] {
  const problems: string[] = [];
  switch (m.kind) {
    case 'mlp':
      if (m.hidden.length > 8) problems.push('At most 8 hidden layers.');
      m.hidden.forEach((l, i) => {
        if (!whole(l.units, 1, 4096)) problems.push(`Layer ${i + 1}: units must be a whole number from 1 to 4096.`);
        if (!ACTIVATIONS.includes(l.activation)) problems.push(`Layer ${i + 1}: unknown activation "${l.activation}".`);
      });
      break;
    case 'cnn':
      if (m.blocks.length < 1 || m.blocks.length > 5) problems.push('A CNN needs 1 to 5 convolution blocks.');
      m.blocks.forEach((b, i) => {
        if (!whole(b.filters, 1, 512)) problems.push(`Block ${i + 1}: filters must be a whole number from 1 to 512.`);
        if (!whole(b.kernelSize, 1, 7)) problems.push(`Block ${i + 1}: kernel size must be a whole number from 1 to 7.`);
      });
      if (!whole(m.imageSize, Math.max(8, minCnnImageSize(m.blocks.length)), 256))
        problems.push(`Image size must be a whole number of px from ${Math.max(8, minCnnImageSize(m.blocks.length))} to 256 for ${m.blocks.length} blocks.`);
      if (!whole(m.dense, 0, 4096)) problems.push('Dense units must be a whole number from 0 to 4096.');
      if (!(m.dropout >= 0 && m.dropout <= 0.8)) problems.push('Dropout must be from 0 to 0.8.');
      if (!(m.augment.shift >= 0 && m.augment.shift <= 0.25)) problems.push('Augmentation shift must be from 0 to 0.25 of the side.');
      if (!(m.augment.brightness >= 0 && m.augment.brightness <= 0.5)) problems.push('Augmentation brightness must be from 0 to 0.5.');
      break;
    case 'transfer':
      if (m.base !== 'mobilenet-v2') problems.push(`Unknown base model "${String(m.base)}".`);
      if (!whole(m.imageSize, 32, 224)) problems.push('The base model takes images from 32 to 224 px.');
      if (!whole(m.hidden, 1, 4096)) problems.push('Head units must be a whole number from 1 to 4096.');
      break;
    case 'rnn':
      if (!RNN_CELLS.includes(m.cell)) problems.push(`Unknown recurrent cell "${String(m.cell)}"; use LSTM or GRU.`);
      if (!whole(m.layers, 1, 4)) problems.push('Recurrent layers must be a whole number from 1 to 4.');
      if (!whole(m.units, 1, 2048)) problems.push('Recurrent units must be a whole number from 1 to 2048.');
      if (!whole(m.embedding, 1, 1024)) problems.push('Embedding width must be a whole number from 1 to 1024.');
      if (!whole(m.sequenceLength, 2, 1024)) problems.push('Sequence length must be a whole number of characters from 2 to 1024.');
      break;
    case 'transformer':
      problems.push(...validateTransformer(m));
      break;
    default:
      problems.push(`Unknown model kind "${String((m as { kind: unknown }).kind)}".`);
  }
  return problems;
}

function validateTransformer(m: TransformerConfig): string[] {
  const problems: string[] = [];
  if (!whole(m.blocks, 1, 8)) problems.push('Transformer blocks must be a whole number from 1 to 8.');
  if (!whole(m.heads, 1, 16)) problems.push('Attention heads must be a whole number from 1 to 16.');
  if (!whole(m.dModel, 2, 1024)) problems.push('Width must be a whole number from 2 to 1024.');
  else if (whole(m.heads, 1, 16) && m.dModel % m.heads !== 0)
    problems.push(`Width (${m.dModel}) must be a multiple of the attention heads (${m.heads}): each head gets an equal share of it.`);
  if (!whole(m.ffUnits, 1, 4096)) problems.push('Feed-forward units must be a whole number from 1 to 4096.');
  if (!(m.dropout >= 0 && m.dropout <= 0.5)) problems.push('Dropout must be from 0 to 0.5.');
  // Attention compares every pair of positions, so its memory grows with the square of the window.
  if (!whole(m.sequenceLength, 2, 512)) problems.push('Sequence length must be a whole number of characters from 2 to 512.');
  return problems;
}

/** JSON with object keys sorted, so equal configs hash equally whatever their key order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export function hashConfig(c: TrainConfig): Promise<string> {
  return sha256Hex(new TextEncoder().encode(canonicalJson(c)));
}
