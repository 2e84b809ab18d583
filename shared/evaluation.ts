// What the evaluation view shows for a job, computed in the worker on its validation split:
// a confusion matrix and per-class figures for classifiers, predicted against actual and the
// residuals for regressors, and a few validation rows beside their predictions. Plain TypeScript.

/** A validation row as the user knows it: its cells, what the model said and what was true. */
export interface EvaluationRow {
  /** 1-based line in the file (or row number for generated data). */
  line: number;
  cells: Record<string, string>;
  predicted: string;
  actual: string;
  /** Classifiers: the predicted class's probability. */
  confidence: number | null;
  correct: boolean | null;
}

export interface ClassFigures {
  name: string;
  precision: number | null;
  recall: number | null;
  f1: number | null;
  /** Validation rows of this class. */
  support: number;
}

export interface ClassificationEvaluation {
  kind: 'classification';
  classNames: string[];
  /** `confusion[actual][predicted]`: counts of validation rows. */
  confusion: number[][];
  perClass: ClassFigures[];
  accuracy: number;
  macroF1: number | null;
}

export interface RegressionEvaluation {
  kind: 'regression';
  targetName: string;
  /** Predicted against actual, in the target's units; at most MAX_SCATTER_POINTS, evenly picked. */
  points: { actual: number; predicted: number }[];
  residuals: { mean: number; std: number; mae: number; rmse: number; r2: number | null; min: number; max: number; median: number; p05: number; p95: number };
}

/** A validation image beside its prediction (the evaluation's grid of misclassified images). */
export interface EvaluationImage {
  /** Where it came from ("circle/a.png"). */
  name: string;
  size: number;
  channels: 1 | 3;
  /** size × size × channels bytes. */
  pixels: Uint8Array;
  predicted: string;
  actual: string;
  /** The predicted class's probability. */
  confidence: number;
}

/** Misclassified validation images shown in the grid, at most. */
export const MAX_EVALUATION_IMAGES = 24;

export type Evaluation = (ClassificationEvaluation | RegressionEvaluation) & {
  jobId: string;
  /** The step of the weights evaluated. */
  step: number;
  /** Whether the live model of a running job was used (its numbers move while it trains). */
  live: boolean;
  numRows: number;
  rows: EvaluationRow[];
  /** Image jobs: misclassified validation images (up to MAX_EVALUATION_IMAGES). */
  images?: EvaluationImage[];
};

export const MAX_SCATTER_POINTS = 2000;
/** Validation rows shown beside their predictions. */
export const EVALUATION_ROWS = 10;
