// Builds the model and optimizer a TrainConfig describes, with seeded initialisers so that the same
// seed always gives the same starting weights.
import * as tf from '@tensorflow/tfjs';
import type { OptimizerName, TrainConfig } from '../shared/config';

export interface ModelShape {
  numFeatures: number;
  /** Number of classes for classification; 1 for regression. */
  numOutputs: number;
}

export function buildModel(config: TrainConfig, shape: ModelShape): tf.Sequential {
  const model = tf.sequential();
  const layers = [...config.model.hidden, { units: shape.numOutputs, activation: 'linear' as const }];
  layers.forEach((layer, i) => {
    model.add(
      tf.layers.dense({
        units: layer.units,
        activation: layer.activation,
        inputShape: i === 0 ? [shape.numFeatures] : undefined,
        // Derived per layer so layers differ, yet a run is reproducible from its seed alone.
        kernelInitializer: tf.initializers.glorotUniform({ seed: (config.seed + 7919 * (i + 1)) >>> 0 }),
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
