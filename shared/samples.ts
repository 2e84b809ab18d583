// Built-in sample data that can be generated anywhere (page, worker, tests). Iris ships as a CSV.
import type { TableDatasetInput } from './dataset';
import { SeededRng } from './rng';

/** Noisy XOR: points around the four corners of the unit square, labelled by the XOR of the corner. */
export function makeXorDataset(samplesPerCorner = 64, noise = 0.1, seed = 1): TableDatasetInput {
  const rng = SeededRng.fromSeed(seed);
  const corners = [
    [0, 0],
    [0, 1],
    [1, 0],
    [1, 1],
  ] as const;
  const n = samplesPerCorner * corners.length;
  const features = new Float32Array(n * 2);
  const targets = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const [cx, cy] = corners[i % corners.length]!;
    features[2 * i] = cx + noise * rng.nextGaussian();
    features[2 * i + 1] = cy + noise * rng.nextGaussian();
    targets[i] = cx ^ cy;
  }
  return {
    kind: 'table',
    id: 'sample:xor',
    name: 'XOR (sample)',
    task: 'classification',
    featureNames: ['x', 'y'],
    targetName: 'xor',
    classNames: ['0', '1'],
    numSamples: n,
    numFeatures: 2,
    features,
    targets,
    source: 'sample',
  };
}
