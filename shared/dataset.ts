// Dataset shapes that cross from the page to the worker (as transferred typed arrays) and live
// in IndexedDB. Tables exist today; images and text are further kinds of the same union.
import { sha256Hex } from './hash';

export type TableTask = 'classification' | 'regression';

export interface TableDatasetInput {
  kind: 'table';
  /** Stable id: a built-in sample's name ("sample:iris") or a generated one for uploads. */
  id: string;
  name: string;
  task: TableTask;
  featureNames: string[];
  targetName: string;
  /** Class names, indexed by the class ids stored in `targets`; empty for regression. */
  classNames: string[];
  numSamples: number;
  numFeatures: number;
  /** Row-major, `numSamples * numFeatures`. */
  features: Float32Array;
  /** Class index (classification) or value (regression), one per sample. */
  targets: Float32Array;
  source: 'sample' | 'upload';
}

/** The union every later kind (images, text) joins. */
export type DatasetInput = TableDatasetInput;

export type Dataset = DatasetInput & {
  /** SHA-256 over the data and its schema; a resume refuses a different fingerprint. */
  fingerprint: string;
  createdAt: number;
};

export function transferablesOf(d: DatasetInput): ArrayBuffer[] {
  return [d.features.buffer as ArrayBuffer, d.targets.buffer as ArrayBuffer];
}

export function validateDataset(d: DatasetInput): string[] {
  const problems: string[] = [];
  if (d.numSamples < 2) problems.push('The dataset needs at least 2 rows.');
  if (d.numFeatures < 1) problems.push('The dataset needs at least one feature column.');
  if (d.features.length !== d.numSamples * d.numFeatures)
    problems.push(
      `Feature data has ${d.features.length} values, expected ${d.numSamples} rows × ${d.numFeatures} columns.`,
    );
  if (d.targets.length !== d.numSamples)
    problems.push(`Target column has ${d.targets.length} values, expected ${d.numSamples}.`);
  if (d.task === 'classification') {
    if (d.classNames.length < 2) problems.push('Classification needs at least 2 classes.');
    for (let i = 0; i < d.targets.length; i++) {
      const t = d.targets[i]!;
      if (!Number.isInteger(t) || t < 0 || t >= d.classNames.length) {
        problems.push(`Row ${i + 1}: class id ${t} is not one of the ${d.classNames.length} classes.`);
        break;
      }
    }
  }
  for (let i = 0; i < d.features.length; i++) {
    if (!Number.isFinite(d.features[i]!)) {
      const row = Math.floor(i / d.numFeatures) + 1;
      problems.push(`Row ${row}, column "${d.featureNames[i % d.numFeatures]}": value is not a finite number.`);
      break;
    }
  }
  return problems;
}

export function fingerprintDataset(d: DatasetInput): Promise<string> {
  const schema = new TextEncoder().encode(
    JSON.stringify([d.kind, d.task, d.featureNames, d.targetName, d.classNames, d.numSamples, d.numFeatures]),
  );
  return sha256Hex(schema, d.features, d.targets);
}
