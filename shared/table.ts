// The one import for a user's table, on either side: its types, Lathe's inferences, plan
// validation and the fitted encoding. The logic lives in the table-* modules; this file only
// gathers them, so callers never depend on how they are split.
export * from './table-types';
export {
  NA_TOKENS, columnNames, fileLineOfRow, isMissingCell, naturalCompare, parseNumberCell, quoteValue, trimCell,
} from './table-cells';
export {
  CLASSIFICATION_MAX_INTEGER_CLASSES, DROP_MAX_LOSS_SHARE, ID_MIN_VALUES, NUMERIC_MIN_SHARE, inferColumnType, inferPlan,
  inferTask, missingMask, withInference, type ColumnFacts,
} from './table-infer';
export { MIN_USABLE_ROWS, featureColumns, usableRows, validatePlan } from './table-plan';
export {
  checkColumns, decodeRegression, encodeFeatures, encodeRecord, encodeRows, extraColumns, fitEncoding, inputNamesOf,
} from './table-encoding';
