// Builds the model and optimizer a TrainConfig describes, with seeded initialisers so that the same
// seed always gives the same starting weights. One switch on the model kind: a Dense MLP (tables),
// a small CNN (images), the head trained on a frozen base's features (transfer learning), or a
// character model (recurrent here, the transformer in workers/text/transformer-model.ts).
import * as tf from '@tensorflow/tfjs';
import type { CnnConfig, OptimizerName, RnnConfig, TrainConfig, TransferConfig } from '../shared/config';
import { seededDropout } from './images/seeded-dropout';
import { buildTransformer } from './text/transformer-model';

export interface ModelShape {
  numFeatures: number;
  /** Number of classes for classification; 1 for regression. */
  numOutputs: number;
  /** One sample's shape when it is not a flat vector, e.g. [28, 28, 1] for a CNN. */
  inputShape?: number[];
}

/** A layer's seeded initializer: derived per layer so layers differ, yet a run is reproducible from its seed alone. */
function init(config: TrainConfig, layer: number): ReturnType<typeof tf.initializers.glorotUniform> {
  return tf.initializers.glorotUniform({ seed: (config.seed + 7919 * (layer + 1)) >>> 0 });
}

function buildCnn(config: TrainConfig, m: CnnConfig, shape: ModelShape): tf.Sequential {
  const model = tf.sequential();
  const inputShape = shape.inputShape ?? [m.imageSize, m.imageSize, 1];
  let layer = 0;
  m.blocks.forEach((b, i) => {
    model.add(
      tf.layers.conv2d({
        filters: b.filters, kernelSize: b.kernelSize, padding: 'same', activation: 'relu',
        inputShape: i === 0 ? inputShape : undefined, kernelInitializer: init(config, layer++), biasInitializer: 'zeros',
      }),
    );
    model.add(tf.layers.maxPooling2d({ poolSize: 2, strides: 2 }));
  });
  model.add(tf.layers.flatten());
  if (m.dropout > 0) model.add(seededDropout({ rate: m.dropout }, 1));
  if (m.dense > 0) {
    model.add(tf.layers.dense({ units: m.dense, activation: 'relu', kernelInitializer: init(config, layer++), biasInitializer: 'zeros' }));
    if (m.dropout > 0) model.add(seededDropout({ rate: m.dropout }, 2));
  }
  model.add(tf.layers.dense({ units: shape.numOutputs, activation: 'linear', kernelInitializer: init(config, layer), biasInitializer: 'zeros' }));
  return model;
}

/** Teachable Machine's head: Dense(hidden, relu) on the base's features, then the class logits. */
function buildHead(config: TrainConfig, m: TransferConfig, shape: ModelShape): tf.Sequential {
  const model = tf.sequential();
  model.add(tf.layers.dense({ units: m.hidden, activation: 'relu', inputShape: [shape.numFeatures], kernelInitializer: init(config, 0), biasInitializer: 'zeros' }));
  model.add(tf.layers.dense({ units: shape.numOutputs, activation: 'linear', kernelInitializer: init(config, 1), biasInitializer: 'zeros' }));
  return model;
}

/**
 * A character model from stock layers only (so an export loads in plain `tf.loadLayersModel`):
 * an embedding of the token ids, stacked LSTM or GRU layers that return every position, and
 * next-character logits at each position. The time axis is left open (null), so generation can
 * feed a prompt shorter than the training windows.
 */
function buildRnn(config: TrainConfig, m: RnnConfig, shape: ModelShape): tf.Sequential {
  const model = tf.sequential();
  model.add(tf.layers.embedding({
    inputDim: shape.numOutputs, outputDim: m.embedding, inputShape: [null],
    embeddingsInitializer: tf.initializers.randomUniform({ minval: -0.05, maxval: 0.05, seed: config.seed >>> 0 }),
  }));
  for (let i = 0; i < m.layers; i++) {
    const seeded = { units: m.units, returnSequences: true, kernelInitializer: init(config, 2 * i), recurrentInitializer: init(config, 2 * i + 1), biasInitializer: 'zeros' as const };
    model.add(m.cell === 'lstm' ? tf.layers.lstm({ ...seeded, unitForgetBias: true }) : tf.layers.gru(seeded));
  }
  model.add(tf.layers.dense({ units: shape.numOutputs, activation: 'linear', kernelInitializer: init(config, 2 * m.layers), biasInitializer: 'zeros' }));
  return model;
}

export function buildModel(config: TrainConfig, shape: ModelShape): tf.Sequential {
  if (config.model.kind === 'cnn') return buildCnn(config, config.model, shape);
  if (config.model.kind === 'rnn') return buildRnn(config, config.model, shape);
  if (config.model.kind === 'transformer') return buildTransformer(config, config.model, shape.numOutputs);
  if (config.model.kind === 'transfer') return buildHead(config, config.model, shape);
  const model = tf.sequential();
  const layers = [...config.model.hidden, { units: shape.numOutputs, activation: 'linear' as const }];
  layers.forEach((layer, i) => {
    model.add(
      tf.layers.dense({
        units: layer.units,
        activation: layer.activation,
        inputShape: i === 0 ? [shape.numFeatures] : undefined,
        kernelInitializer: init(config, i),
        biasInitializer: 'zeros',
      }),
    );
  });
  return model;
}

export function buildOptimizer(name: OptimizerName, learningRate: number): tf.Optimizer {
  switch (name) {
    case 'adam':
      return tf.train.adam(learningRate);
    case 'sgd':
      return tf.train.sgd(learningRate);
    case 'momentum':
      return tf.train.momentum(learningRate, 0.9);
    case 'rmsprop':
      return tf.train.rmsprop(learningRate);
  }
}

/**
 * Private optimizer scalars that `setWeights` does not restore exactly. tfjs Adam recomputes
 * `accBeta = beta^(t+1)` with `pow` on restore, while training multiplies it step by step; the
 * two differ in the last bits, which would break bit-identical resume.
 */
export const EXACT_OPTIMIZER_SCALARS: Partial<Record<OptimizerName, readonly string[]>> = {
  adam: ['accBeta1', 'accBeta2'],
};

type ScalarHolder = Record<string, tf.Variable | undefined>;

export async function readOptimizerScalars(name: OptimizerName, optimizer: tf.Optimizer): Promise<Record<string, number>> {
  const keys = EXACT_OPTIMIZER_SCALARS[name] ?? [];
  const variables = keys.map((key) => {
    const v = (optimizer as unknown as ScalarHolder)[key];
    if (!v) throw new Error(`Optimizer ${name} has no ${key}; the tfjs version is not supported.`);
    return v;
  });
  // Read together: each read-back is a round trip on a GPU backend.
  const values = await Promise.all(variables.map(async (v) => (await v.data())[0]!));
  return Object.fromEntries(keys.map((key, i) => [key, values[i]!]));
}

export function writeOptimizerScalars(name: OptimizerName, optimizer: tf.Optimizer, values: Record<string, number>): void {
  for (const key of EXACT_OPTIMIZER_SCALARS[name] ?? []) {
    const v = (optimizer as unknown as ScalarHolder)[key];
    const value = values[key];
    if (!v || value === undefined) throw new Error(`The checkpoint lacks the optimizer's ${key}.`);
    tf.tidy(() => v.assign(tf.scalar(value)));
  }
}
