// The shapes of a user's table as Lathe understands it: parsed columns, the user's plan for them,
// and the fitted encoding that turns rows into model inputs. Plain TypeScript with no imports, so
// the page, the worker and stored records all share one definition.
export type TableTask = 'classification' | 'regression';

export type ColumnType = 'numeric' | 'categorical' | 'ignored';

/** Per column: the most frequent categories get their own one-hot input; the rest share one "other" input. */
export const MAX_ONE_HOT_CATEGORIES = 50;
/** Distinct values tracked per column while reading; beyond this a column keeps no dictionary (free text, ids, floats). */
export const MAX_DICTIONARY_VALUES = 10_000;
/** Name of the shared one-hot input for categories beyond the top MAX_ONE_HOT_CATEGORIES. */
export const OTHER_CATEGORY_LABEL = '(other)';

export interface TableColumn {
  /** Header text, trimmed and made unique ("a", "a (2)"); "column 1", … when the file has no header row. */
  name: string;
  /** One per data row; NaN where the cell is missing or not a number. */
  numbers: Float32Array;
  /** Cells that are empty, whitespace or an NA token (see NA_TOKENS in ./table-cells). */
  missingCount: number;
  /** Cells that are not missing and not numbers. */
  nonNumericCount: number;
  /** The first non-numeric cell; `row` is its 1-based line in the file. */
  firstNonNumeric: { row: number; value: string } | null;
  /** Exact up to MAX_DICTIONARY_VALUES; when `distinctCapped`, a lower bound. */
  distinctCount: number;
  distinctCapped: boolean;
  /** Distinct non-missing cell texts (trimmed), most frequent first (ties: first seen first); null when capped. */
  categories: string[] | null;
  /** Occurrences of each category, parallel to `categories`. */
  categoryCounts: number[] | null;
  /** Per data row: index into `categories`, -1 = missing; null when capped. */
  codes: Int32Array | null;
  /** Up to 5 distinct example values, in the order they first appear. */
  samples: string[];
  inferred: ColumnType;
  /** Why `inferred` was chosen, in words a user reads beside the column ("constant: every value is “x”"). */
  inferredReason: string;
}

export interface TableData {
  columns: TableColumn[];
  numRows: number;
  /**
   * Where each data row starts in the file, as a piecewise map: row `rows[i] + k` starts on line
   * `lines[i] + k` until the next entry. Blank lines and values spanning lines add entries, so a
   * plain file has one. Absent (a table built in code): row r is on line r + 2, under a header.
   */
  rowLines?: { rows: number[]; lines: number[] };
  /** Numbers in this table use a decimal comma ("1,5"); set for semicolon-separated files. */
  decimalComma?: boolean;
}

/** The user's choices; part of the job config (hashed). */
export interface TablePlan {
  target: string;
  task: TableTask;
  /** Every non-target column's type; 'ignored' = not used. */
  columns: Record<string, ColumnType>;
  /** 'drop' removes rows with a missing value in any used column; 'impute' fills feature cells (mean or most frequent). */
  missing: 'drop' | 'impute';
}

export type FeatureEncoding =
  | { name: string; type: 'numeric'; mean: number; std: number; impute: number | null }
  | { name: string; type: 'categorical'; categories: string[]; other: boolean; impute: string | null };

/** Fitted on training rows only; JSON-serializable; travels in checkpoints and exported model metadata. */
export interface TableEncoding {
  version: 1;
  task: TableTask;
  missing: 'drop' | 'impute';
  features: FeatureEncoding[];
  /** One per model input: "sepal_length", "color=red", "color=(other)". */
  inputNames: string[];
  /** Classification: class names by class index. Regression: the target is standardized with mean/std. */
  target: { name: string; classNames: string[] } | { name: string; mean: number; std: number };
  /** Numbers in the source table used a decimal comma; batch files from the same source may too. */
  decimalComma?: boolean;
}

/** A problem with the user's table; the message names the line (1-based, as in the file) and/or column. */
export class TableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TableError';
  }
}
