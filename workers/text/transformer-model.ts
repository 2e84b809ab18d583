// The small causal transformer for texts, built from a stock Embedding and Dense around Lathe's
// custom layers (lathe-layers.js, registered here once for the whole worker, so checkpoints,
// generation and imported exports all find the classes). Seeded like the other models: the same
// job seed gives the same initial weights, which exact resume and determinism rely on.
// (The reference gives tests' tsconfig, which reaches this file, Vite's `?raw` module type.)
/// <reference types="vite/client" />
import * as tf from '@tensorflow/tfjs';
import type { TrainConfig, TransformerConfig } from '../../shared/config';
import { dropoutSeed } from '../images/seeded-dropout';
import { LATHE_LAYER_CLASS_NAMES, registerLatheLayers } from './lathe-layers.js';
import LATHE_LAYERS_SOURCE from './lathe-layers.js?raw';

const layers = registerLatheLayers(tf, { dropoutSeed });

/** The file an exported transformer ships beside model.json, and its exact bytes' text. */
export const LATHE_LAYERS_FILE = 'lathe-layers.js';
export { LATHE_LAYERS_SOURCE, LATHE_LAYER_CLASS_NAMES };

/** A per-layer seed derived from the job's, so layers differ yet a run is reproducible from its seed alone. */
function layerSeed(config: TrainConfig, layer: number): number {
  return (config.seed + 104729 * (layer + 1)) >>> 0;
}

/**
 * Token embedding, learned position embedding, `blocks` pre-norm causal attention blocks, a final
 * layer norm and next-character logits at every position. The time axis is open (null) like the
 * recurrent model's, so generation can feed a prompt shorter than the window.
 */
export function buildTransformer(config: TrainConfig, m: TransformerConfig, vocabularySize: number): tf.Sequential {
  const model = tf.sequential();
  model.add(tf.layers.embedding({
    inputDim: vocabularySize, outputDim: m.dModel, inputShape: [null],
    embeddingsInitializer: tf.initializers.randomNormal({ mean: 0, stddev: 0.02, seed: layerSeed(config, 0) }),
  }));
  model.add(new layers.LathePositionEmbedding({ maxLength: m.sequenceLength, seed: layerSeed(config, 1) }));
  for (let i = 0; i < m.blocks; i++)
    model.add(new layers.LatheTransformerBlock({ heads: m.heads, ffUnits: m.ffUnits, dropout: m.dropout, dropoutSalt: i, seed: layerSeed(config, 2 + i) }));
  model.add(new layers.LatheLayerNorm({}));
  model.add(tf.layers.dense({
    units: vocabularySize, activation: 'linear',
    kernelInitializer: tf.initializers.glorotUniform({ seed: layerSeed(config, 2 + m.blocks) }), biasInitializer: 'zeros',
  }));
  return model;
}
