// papaparse's core parser, typed for the way Lathe feeds it text chunk by chunk. papaparse ships no
// types, and @types/papaparse pulls Node's types into every program that sees it, which the worker
// must not; so the few types used are written here. Imports papaparse only.
// @ts-expect-error TS7016: no declaration file, on purpose (see above).
import papaparse from 'papaparse';

export interface ParserConfig {
  delimiter: string;
  newline: '\n' | '\r' | '\r\n';
  quoteChar?: string;
  /** Stop after this many rows. */
  preview?: number;
}

export interface ParseError {
  type: 'Quotes' | 'Delimiter' | 'FieldMismatch';
  code: 'MissingQuotes' | 'InvalidQuotes' | 'UndetectableDelimiter' | 'TooFewFields' | 'TooManyFields';
  message: string;
  /** Index into this call's `data`. */
  row?: number;
}

export interface ParserResult {
  data: string[][];
  errors: ParseError[];
  /** `cursor`: characters consumed plus `baseIndex`; with `ignoreLastRow`, where the unfinished last row starts. */
  meta: { cursor: number; delimiter: string; linebreak: string; aborted: boolean; truncated: boolean };
}

export interface CoreParser {
  /** With `ignoreLastRow`, the last (possibly unfinished) row is left out and `meta.cursor` points at its start. */
  parse(input: string, baseIndex: number, ignoreLastRow: boolean): ParserResult;
}

export const Parser = (papaparse as { Parser: new (config: ParserConfig) => CoreParser }).Parser;

/** papaparse's writer: rows of cells to CSV text, quoting cells that need it. */
export const unparse = (papaparse as { unparse: (rows: string[][], config?: { delimiter?: string; newline?: string }) => string }).unparse;

export interface FileParseConfig {
  delimiter: string;
  newline: '\n' | '\r' | '\r\n';
  /** Bytes read from the File per chunk. */
  chunkSize: number;
  chunk: (result: ParserResult) => void;
  complete: () => void;
  error: (error: Error) => void;
}

/** papaparse's own streaming File reader (the bench's baseline; the app reads the File itself). */
export const parseFile = (file: File, config: FileParseConfig): void =>
  (papaparse as { parse: (file: File, config: FileParseConfig) => void }).parse(file, config);
