// Built-in sample data that can be generated anywhere (page, worker, tests). Iris ships as a CSV.
import type { TableDatasetInput } from './dataset';
import { SeededRng } from './rng';

/**
 * Noisy XOR: `samplesPerCorner` points around each of (0,0), (0,1), (1,0), (1,1), in that order,
 * labelled by the XOR of the corner's coordinates.
 */
export function makeXorDataset(samplesPerCorner = 64, noise = 0.1, seed = 1): TableDatasetInput {
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
