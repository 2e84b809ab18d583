// The built-in sample datasets: their catalogue (names, files, the config recommended for each)
// and the data that is generated rather than read (XOR). Plain TypeScript: the page lists the
// samples, the worker loads them, tests use the same generator.
import type { TrainConfig } from './config';
import type { TableDatasetInput } from './dataset';
import { SeededRng } from './rng';

export type SampleId = 'sample:xor' | 'sample:iris' | 'sample:penguins' | 'sample:digits' | 'sample:moby-dick';

export interface SampleInfo {
  id: SampleId;
  name: string;
  description: string;
  /** A CSV under `public/samples/`, read by the worker like an upload; null when generated. */
  file: string | null;
  /** A table, or images (the digits: a Lathe image file made at build time, scripts/image-assets.mjs). */
  kind?: 'table' | 'images' | 'text';
  recommended: TrainConfig;
}

/** The text sample's preset: one LSTM layer like the TF.js text example, but predicting the next character at every window position. */
export const TEXT_SAMPLE_CONFIG: TrainConfig = {
  model: { kind: 'rnn', cell: 'lstm', layers: 1, units: 128, embedding: 32, sequenceLength: 40 },
  optimizer: 'adam',
  learningRate: 0.005,
  batchSize: 32,
  epochs: 20,
  validationSplit: 0.1,
  seed: 42,
};

/**
 * The small causal attention preset for texts: two pre-norm transformer blocks of 64 dims and 4
 * heads over 64-character windows, sized to train on a CPU (see README.md, "Text").
 */
export const TEXT_TRANSFORMER_CONFIG: TrainConfig = {
  model: { kind: 'transformer', blocks: 2, heads: 4, dModel: 64, ffUnits: 256, dropout: 0, sequenceLength: 64 },
  optimizer: 'adam',
  learningRate: 0.003,
  batchSize: 32,
  epochs: 20,
  validationSplit: 0.1,
  seed: 42,
};

export const SAMPLES: readonly SampleInfo[] = [
  {
    id: 'sample:xor',
    name: 'XOR',
    description: 'Four noisy clusters at the corners of the unit square; the label is the XOR of the corner.',
    file: null,
    recommended: {
      model: {
        kind: 'mlp',
        hidden: [
          { units: 8, activation: 'tanh' },
          { units: 8, activation: 'tanh' },
        ],
      },
      optimizer: 'adam',
      learningRate: 0.05,
      batchSize: 32,
      epochs: 60,
      validationSplit: 0.25,
      seed: 42,
    },
  },
  {
    id: 'sample:iris',
    name: 'Iris',
    description: "Fisher's 150 iris flowers: four measurements, three species.",
    file: 'iris.csv',
    recommended: {
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
      epochs: 100,
      validationSplit: 0.2,
      seed: 42,
    },
  },
  {
    id: 'sample:penguins',
    name: 'Penguins (regression)',
    description: 'Palmer penguins: species, island, bill, flipper and sex predict body mass in grams.',
    file: 'penguins.csv',
    recommended: {
      model: {
        kind: 'mlp',
        hidden: [
          { units: 32, activation: 'relu' },
          { units: 16, activation: 'relu' },
        ],
      },
      optimizer: 'adam',
      learningRate: 0.01,
      batchSize: 16,
      epochs: 150,
      validationSplit: 0.2,
      seed: 42,
    },
  },
  {
    id: 'sample:digits',
    name: 'Handwritten digits',
    description: '3,000 MNIST digits (300 of each), 28 × 28 px grey: a small CNN learns them in a few epochs.',
    file: 'digits.bin',
    kind: 'images',
    recommended: {
      model: {
        kind: 'cnn',
        imageSize: 28,
        blocks: [
          { filters: 16, kernelSize: 3 },
          { filters: 32, kernelSize: 3 },
        ],
        dense: 64,
        dropout: 0.25,
        augment: { flip: false, shift: 0.08, brightness: 0 },
      },
      optimizer: 'adam',
      learningRate: 0.002,
      batchSize: 32,
      epochs: 6,
      validationSplit: 0.2,
      seed: 42,
    },
  },
  {
    id: 'sample:moby-dick',
    name: 'Moby-Dick, chapters 1–30',
    description: "The first 30 chapters of Melville's Moby-Dick (public domain, 263,000 characters): a character model writes Melville-like words within minutes.",
    file: 'moby-dick-ch1-30.txt',
    kind: 'text',
    recommended: TEXT_SAMPLE_CONFIG,
  },
];

export function sampleInfo(id: string): SampleInfo | undefined {
  return SAMPLES.find((s) => s.id === id);
}

export function isSampleId(value: string): value is SampleId {
  return SAMPLES.some((s) => s.id === value);
}

export const XOR_SEED = 1;
export const XOR_POINTS_PER_CORNER = 64;
export const XOR_NOISE_SIGMA = 0.1;

/**
 * Noisy XOR: `samplesPerCorner` points around each of (0,0), (0,1), (1,0), (1,1), in that order,
 * labelled by the XOR of the corner's coordinates.
 */
export function makeXorDataset(samplesPerCorner = XOR_POINTS_PER_CORNER, noise = XOR_NOISE_SIGMA, seed = XOR_SEED): TableDatasetInput {
  const rng = SeededRng.fromSeed(seed);
  const n = 4 * samplesPerCorner;
  const features = new Float32Array(n * 2);
  const targets = new Float32Array(n);
  for (let corner = 0; corner < 4; corner++) {
    const cx = corner >> 1;
    const cy = corner & 1;
    for (let k = 0; k < samplesPerCorner; k++) {
      const i = corner * samplesPerCorner + k;
      features[2 * i] = cx + noise * rng.nextGaussian();
      features[2 * i + 1] = cy + noise * rng.nextGaussian();
      targets[i] = cx ^ cy;
    }
  }
  return {
    kind: 'table',
    id: 'sample:xor',
    name: 'XOR',
    task: 'classification',
    featureNames: ['x', 'y'],
    targetName: 'label',
    classNames: ['0', '1'],
    numSamples: n,
    numFeatures: 2,
    features,
    targets,
    source: 'sample',
  };
}
