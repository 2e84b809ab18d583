// Training configuration: what the user sets up, and its canonical hash. Plain TypeScript.
import { sha256Hex } from './hash';
import type { TablePlan } from './table-types';

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

export interface TrainConfig {
  model: MlpConfig;
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
  if (c.model.hidden.length > 8) problems.push('At most 8 hidden layers.');
  c.model.hidden.forEach((l, i) => {
    if (!Number.isInteger(l.units) || l.units < 1 || l.units > 4096)
      problems.push(`Layer ${i + 1}: units must be a whole number from 1 to 4096.`);
    if (!ACTIVATIONS.includes(l.activation)) problems.push(`Layer ${i + 1}: unknown activation "${l.activation}".`);
  });
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
