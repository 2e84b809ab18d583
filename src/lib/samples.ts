// Built-in sample datasets and the training config recommended for each (docs/ui-contract.md).
// XOR is generated from a fixed seed, so every tab and every reload sees the same points.
import type { TrainConfig } from '../../shared/config';
import { csvToTable } from '../../shared/csv';
import type { DatasetInput, TableDatasetInput } from '../../shared/dataset';
import { makeXorDataset } from '../../shared/samples';

export type SampleId = 'sample:xor' | 'sample:iris';

export interface SampleInfo {
  id: SampleId;
  name: string;
  description: string;
  recommended: TrainConfig;
}

export const SAMPLES: readonly SampleInfo[] = [
  {
    id: 'sample:xor',
    name: 'XOR',
    description: 'Four noisy clusters at the corners of the unit square; the label is the XOR of the corner.',
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
];

export function sampleInfo(id: string): SampleInfo | undefined {
  return SAMPLES.find((s) => s.id === id);
}

export const XOR_SEED = 1;
export const XOR_POINTS_PER_CORNER = 64;
export const XOR_NOISE_SIGMA = 0.1;

/** 4 × 64 points around (0,0), (0,1), (1,0), (1,1), in that order. */
export function xorDataset(): TableDatasetInput {
  return makeXorDataset(XOR_POINTS_PER_CORNER, XOR_NOISE_SIGMA, XOR_SEED);
}

/** `baseUrl` is the app's base (Vite's BASE_URL), where public/samples/ is served. */
export async function irisDataset(baseUrl: string, fetcher: typeof fetch = fetch): Promise<TableDatasetInput> {
  const response = await fetcher(`${baseUrl}samples/iris.csv`);
  if (!response.ok) throw new Error(`Could not load the Iris sample (${response.status} ${response.statusText}).`);
  return csvToTable(await response.text(), { id: 'sample:iris', name: 'Iris', source: 'sample' });
}

export function loadSample(id: SampleId, baseUrl: string): Promise<DatasetInput> {
  return id === 'sample:xor' ? Promise.resolve(xorDataset()) : irisDataset(baseUrl);
}

/** A copy whose buffers may be transferred to the worker without emptying the original. */
export function cloneDataset(d: DatasetInput): DatasetInput {
  return {
    ...d,
    featureNames: [...d.featureNames],
    classNames: [...d.classNames],
    features: d.features.slice(),
    targets: d.targets.slice(),
  };
}

export function describeDataset(d: DatasetInput): string {
  const task =
    d.task === 'classification'
      ? `classification, ${d.classNames.length} classes (${d.classNames.join(', ')})`
      : `regression of ${d.targetName}`;
  return `${d.numSamples} rows · ${d.numFeatures} features (${d.featureNames.join(', ')}) · ${task}`;
}
