// Lathe's first guess about a table: each column's type (with a reason a user can read), the
// target, the task and the missing-value policy. The user can change every guess. Plain
// TypeScript; imports only table types and cell helpers.
import { quoteValue } from './table-cells';
import {
  MAX_DICTIONARY_VALUES, MAX_ONE_HOT_CATEGORIES, type ColumnType, type TableColumn, type TableData, type TablePlan,
  type TableTask,
} from './table-types';

/** A column is numeric when at least this share of its non-missing cells are numbers; the rest are reported. */
export const NUMERIC_MIN_SHARE = 0.95;
/** An integer target with at most this many distinct values is a classification target. */
export const CLASSIFICATION_MAX_INTEGER_CLASSES = 20;
/** Below this many values, "every value differs" is normal and says nothing about ids. */
export const ID_MIN_VALUES = 10;
/** The default plan imputes instead of dropping when dropping would lose more than this share of rows. */
export const DROP_MAX_LOSS_SHARE = 0.05;

/** Header names that say "identifier": id, ID, user_id, customerId, index, key, "row no.", "#". */
const ID_NAME = /(^|[^a-z])(id|ids|index|key|uuid|guid)([^a-z]|$)|[a-z]Id$|^(row|record)?\s*(no\.?|num|number|#)$/i;

export type ColumnFacts = Omit<TableColumn, 'inferred' | 'inferredReason'>;

interface NumberShape {
  count: number;
  allIntegers: boolean;
  min: number;
  max: number;
  countsUpByOne: boolean;
}

function numberShape(numbers: Float32Array): NumberShape {
  let count = 0;
  let allIntegers = true;
  let min = Infinity;
  let max = -Infinity;
  let countsUpByOne = true;
  let prev = NaN;
  for (let i = 0; i < numbers.length; i++) {
    const v = numbers[i]!;
    if (v !== v) {
      countsUpByOne = false;
      continue;
    }
    count++;
    if (allIntegers && !Number.isInteger(v)) allIntegers = false;
    if (v < min) min = v;
    if (v > max) max = v;
    if (countsUpByOne && prev === prev && v !== prev + 1) countsUpByOne = false;
    prev = v;
  }
  return { count, allIntegers, min, max, countsUpByOne: countsUpByOne && count > 1 };
}

const plural = (n: number, one: string, many = `${one}s`): string => `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;

/** The inferred type of one column, and why. */
export function inferColumnType(col: ColumnFacts, numRows: number): { type: ColumnType; reason: string } {
  const nonMissing = numRows - col.missingCount;
  const missingNote = col.missingCount > 0 ? `, ${plural(col.missingCount, 'missing value')}` : '';
  if (nonMissing === 0) return { type: 'ignored', reason: `all ${plural(numRows, 'value')} are missing` };
  if (col.distinctCount === 1) {
    const only = col.categories?.[0] ?? col.samples[0] ?? '';
    return { type: 'ignored', reason: `constant: every value is ${quoteValue(only)}${missingNote}` };
  }
  const numericCount = nonMissing - col.nonNumericCount;
  if (numericCount >= NUMERIC_MIN_SHARE * nonMissing) {
    const shape = numberShape(col.numbers);
    const allDistinct = !col.distinctCapped && col.distinctCount === nonMissing;
    const isRange = shape.allIntegers && shape.max - shape.min === nonMissing - 1;
    const idLike =
      col.nonNumericCount === 0 &&
      col.missingCount === 0 &&
      nonMissing >= ID_MIN_VALUES &&
      shape.allIntegers &&
      (shape.countsUpByOne || (allDistinct && (isRange || ID_NAME.test(col.name))) || (col.distinctCapped && ID_NAME.test(col.name)));
    if (idLike)
      return { type: 'ignored', reason: `every value is a different whole number (${shape.min} to ${shape.max}): a row number or id?` };
    if (col.nonNumericCount > 0) {
      const first = col.firstNonNumeric!;
      const more = col.nonNumericCount > 1 ? ` and ${plural(col.nonNumericCount - 1, 'other')}` : '';
      return { type: 'numeric', reason: `mostly numbers, but line ${first.row} has ${quoteValue(first.value)}${more}` };
    }
    return { type: 'numeric', reason: `all ${plural(numericCount, 'value')} are numbers${missingNote}` };
  }
  if (col.distinctCapped)
    return { type: 'ignored', reason: `more than ${plural(MAX_DICTIONARY_VALUES, 'different value')}: free text or ids?` };
  if (col.distinctCount === nonMissing && nonMissing >= ID_MIN_VALUES)
    return { type: 'ignored', reason: 'every value differs: an id or free text?' };
  if (col.distinctCount > MAX_ONE_HOT_CATEGORIES && col.distinctCount > nonMissing / 2)
    return { type: 'ignored', reason: `${plural(col.distinctCount, 'different value')} in ${plural(nonMissing, 'row')}: free text or ids?` };
  return { type: 'categorical', reason: `${plural(col.distinctCount, 'category', 'categories')}${missingNote}` };
}

/** Fills in `inferred` and `inferredReason`. */
export function withInference(col: ColumnFacts, numRows: number): TableColumn {
  const { type, reason } = inferColumnType(col, numRows);
  return { ...col, inferred: type, inferredReason: reason };
}

/**
 * Classification when the target is text, or whole numbers with few distinct values (at most
 * CLASSIFICATION_MAX_INTEGER_CLASSES, and on average at least two rows per value); otherwise regression.
 */
export function inferTask(target: TableColumn, numRows: number): TableTask {
  const nonMissing = numRows - target.missingCount;
  if (target.inferred === 'categorical' || target.nonNumericCount > (1 - NUMERIC_MIN_SHARE) * nonMissing)
    return 'classification';
  const shape = numberShape(target.numbers);
  const fewIntegers =
    shape.allIntegers &&
    !target.distinctCapped &&
    target.distinctCount <= CLASSIFICATION_MAX_INTEGER_CLASSES &&
    target.distinctCount * 2 <= nonMissing;
  return fewIntegers ? 'classification' : 'regression';
}

/** Rows with a target value that 'drop' would lose, counted for the plan's default. */
function rowsDropWouldLose(table: TableData, used: TableColumn[], target: TableColumn): { lost: number; withTarget: number } {
  let lost = 0;
  let withTarget = 0;
  const targetMissing = missingMask(target);
  const masks = used.map(missingMask);
  for (let r = 0; r < table.numRows; r++) {
    if (targetMissing(r)) continue;
    withTarget++;
    if (masks.some((isMissing) => isMissing(r))) lost++;
  }
  return { lost, withTarget };
}

/** Missing = an NA-like cell; a text cell in a numeric column is not "missing" (validation names it instead). */
export function missingMask(col: TableColumn): (row: number) => boolean {
  if (col.codes) {
    const codes = col.codes;
    return (r) => codes[r]! < 0;
  }
  // Without a dictionary, a NaN is missing unless the column has text at all; then only codes could tell.
  const numbers = col.numbers;
  return (r) => numbers[r] !== numbers[r];
}

/**
 * The default plan: the target is the last column that is not ignored (the last column when all
 * are), the task follows the target, every other column keeps its inferred type, and missing
 * values are dropped unless that would lose more than DROP_MAX_LOSS_SHARE of the rows.
 */
export function inferPlan(table: TableData): TablePlan {
  const cols = table.columns;
  if (cols.length === 0) throw new Error('inferPlan: the table has no columns.');
  const target = [...cols].reverse().find((c) => c.inferred !== 'ignored') ?? cols[cols.length - 1]!;
  const columns: Record<string, ColumnType> = {};
  for (const c of cols) if (c !== target) columns[c.name] = c.inferred;
  const used = cols.filter((c) => c !== target && c.inferred !== 'ignored');
  const { lost, withTarget } = rowsDropWouldLose(table, used, target);
  const missing = lost > DROP_MAX_LOSS_SHARE * withTarget ? 'impute' : 'drop';
  return { target: target.name, task: inferTask(target, table.numRows), columns, missing };
}
