// Whether a user's plan can train on a table, in messages that name the column and the line, and
// which rows it trains on. Plain TypeScript; imports only table types, cell helpers and inference.
import { fileLineOfRow, quoteValue } from './table-cells';
import { missingMask } from './table-infer';
import { MAX_DICTIONARY_VALUES, type TableColumn, type TableData, type TablePlan } from './table-types';

/** Fewer usable rows than this cannot be split into training and validation. */
export const MIN_USABLE_ROWS = 2;

const count = (n: number, one: string, many = `${one}s`): string => `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;

/** The columns a plan feeds to the model, in table order (the target excluded). */
export function featureColumns(table: TableData, plan: TablePlan): TableColumn[] {
  return table.columns.filter((c) => c.name !== plan.target && (plan.columns[c.name] ?? 'ignored') !== 'ignored');
}

function columnProblems(table: TableData, plan: TablePlan, col: TableColumn): string[] {
  const type = plan.columns[col.name];
  if (type === undefined) return [`Column “${col.name}” has no type in the plan: choose numeric, categorical or ignored.`];
  if (type === 'ignored') return [];
  if (col.missingCount === table.numRows) return [`Column “${col.name}” is empty in every row; set it to ignored.`];
  if (type === 'numeric' && col.nonNumericCount > 0) {
    const first = col.firstNonNumeric!;
    const more = col.nonNumericCount > 1 ? ` (and ${count(col.nonNumericCount - 1, 'more value')} that are not numbers)` : '';
    return [
      `Column “${col.name}” is set to numeric, but line ${first.row} has ${quoteValue(first.value)}${more}. ` +
        'Fix the file, or set the column to categorical or ignored.',
    ];
  }
  if (type === 'categorical' && col.distinctCapped)
    return [
      `Column “${col.name}” has more than ${count(MAX_DICTIONARY_VALUES, 'different value')}, too many to be categorical; set it to numeric or ignored.`,
    ];
  return [];
}

function targetProblems(table: TableData, plan: TablePlan, target: TableColumn): string[] {
  const name = target.name;
  if (target.missingCount === table.numRows) return [`The target column “${name}” is empty in every row.`];
  if (target.distinctCount === 1) {
    const only = target.categories?.[0] ?? target.samples[0] ?? '';
    return plan.task === 'classification'
      ? [`The target column “${name}” has only one class (${quoteValue(only)}): there is nothing to tell apart.`]
      : [`The target column “${name}” has the same value (${quoteValue(only)}) in every row: there is nothing to predict.`];
  }
  if (plan.task === 'regression' && target.nonNumericCount > 0) {
    const first = target.firstNonNumeric!;
    return [
      `Regression needs a numeric target, but line ${first.row} of “${name}” has ${quoteValue(first.value)}` +
        `${target.nonNumericCount > 1 ? ` (and ${count(target.nonNumericCount - 1, 'more value')} that are not numbers)` : ''}. ` +
        'Choose classification, or fix the file.',
    ];
  }
  if (plan.task === 'classification' && (target.distinctCapped || !target.codes))
    return [`The target column “${name}” has more than ${count(MAX_DICTIONARY_VALUES, 'different value')}, too many classes; did you mean regression?`];
  return [];
}

/** [] when the plan can train; otherwise every problem found, each naming its column (and line). */
export function validatePlan(table: TableData, plan: TablePlan): string[] {
  const target = table.columns.find((c) => c.name === plan.target);
  if (!target) return [`There is no column named “${plan.target}” to predict.`];
  const problems: string[] = [];
  const known = new Set(table.columns.map((c) => c.name));
  for (const name of Object.keys(plan.columns))
    if (!known.has(name)) problems.push(`The plan names a column “${name}” that the table does not have.`);
  if (plan.columns[target.name] !== undefined && plan.columns[target.name] !== 'ignored')
    problems.push(`Column “${target.name}” is the target, so it cannot also be an input.`);
  problems.push(...targetProblems(table, plan, target));
  for (const col of table.columns) if (col !== target) problems.push(...columnProblems(table, plan, col));
  if (featureColumns(table, plan).length === 0)
    problems.push('No input column is left: set at least one column other than the target to numeric or categorical.');
  if (problems.length > 0) return problems;

  const { rows } = usableRows(table, plan);
  if (rows.length < MIN_USABLE_ROWS) {
    const why = plan.missing === 'drop' ? ' once rows with a missing value are dropped; choose “impute” or ignore the columns with gaps' : '';
    problems.push(`Only ${count(rows.length, 'row')} can be used for training${why}. Lathe needs at least ${MIN_USABLE_ROWS}.`);
  } else if (plan.task === 'classification') {
    const codes = target.codes!;
    const first = codes[rows[0]!]!;
    if (rows.every((r) => codes[r] === first)) {
      const line = fileLineOfRow(table, rows[0]!);
      problems.push(
        `Every usable row has the same target class (${quoteValue(target.categories![first]!)}, line ${line} is one); ` +
          'the other classes are only in rows that are dropped for missing values.',
      );
    }
  }
  return problems;
}

/**
 * The rows a plan trains on. 'drop' keeps rows with a value in every used column (target included);
 * 'impute' keeps rows with a target and reports how many feature cells will be imputed.
 */
export function usableRows(table: TableData, plan: TablePlan): { rows: Uint32Array; dropped: number; imputed: number } {
  const target = table.columns.find((c) => c.name === plan.target);
  if (!target) throw new Error(`usableRows: no column named “${plan.target}”.`);
  const targetMissing = missingMask(target);
  const featureMissing = featureColumns(table, plan).map(missingMask);
  const rows = new Uint32Array(table.numRows);
  let kept = 0;
  let imputed = 0;
  for (let r = 0; r < table.numRows; r++) {
    if (targetMissing(r)) continue;
    let gaps = 0;
    for (const isMissing of featureMissing) if (isMissing(r)) gaps++;
    if (gaps > 0 && plan.missing === 'drop') continue;
    imputed += gaps;
    rows[kept++] = r;
  }
  return { rows: rows.slice(0, kept), dropped: table.numRows - kept, imputed };
}
