// Reads a user's CSV/TSV file in the worker: streamed from the Blob in slices (never one string),
// with progress and cancellation, encoding and layout detection, and columns built as it goes.
// Any problem is a TableError naming the line and column, and nothing half-read is returned.
// Uses worker globals (Blob streams, TextDecoder); imports shared code and workers/table.
import { TableError, type TableData } from '../../shared/table-types';
import { yieldToEventLoop } from '../yield';
import { CsvRows, type Delimiter } from './csv-rows';
import { ChunkDecoder, RESTART, SNIFF_BYTES, refuseNonText, type TextEncodingName } from './decode';
import { detectDelimiter, detectNewline } from './sniff';
import { TableAssembler } from './table-assembler';

/** Largest file read unless the caller passes its own limit (the page knows the device's memory). */
export const DEFAULT_MAX_TABLE_BYTES = 500_000_000;
/**
 * Bytes (about) decoded and parsed per step; between steps a cancel can arrive. Small steps also
 * keep memory down: one step's row strings die young instead of piling up as old garbage. On 50 MB
 * in Node, 64 KiB steps peaked at 1.7× the file's size and 1 MiB steps at 4.1×, and were not slower.
 */
export const READ_SLICE_BYTES = 64 * 1024;
/** Progress is reported at most this often (and once at the end), so the page is not flooded. */
export const PROGRESS_INTERVAL_MS = 50;
/** Text gathered before guessing the delimiter; doubled while the guess needs more, up to the max. */
const SNIFF_MIN_CHARS = 64 * 1024;
const SNIFF_MAX_CHARS = 4 * 1024 * 1024;
/** Head room over the estimated row count when sizing column arrays, to avoid one late regrowth. */
const CAPACITY_HEADROOM = 1.05;

export interface ReadTableOptions {
  /** Aborting rejects with the signal's reason (an AbortError DOMException by default) within one slice. */
  signal?: AbortSignal;
  /**
   * After every slice. Rises to `totalBytes`, except that a file found to mix UTF-8 with other
   * bytes is read a second time as Windows-1252, and progress starts again from 0 once.
   */
  onProgress?: (bytesRead: number, totalBytes: number) => void;
  /** Larger files are refused before anything is read; default DEFAULT_MAX_TABLE_BYTES. */
  maxBytes?: number;
}

export interface ReadTableResult {
  table: TableData;
  delimiter: Delimiter;
  encoding: TextEncodingName;
  hasHeader: boolean;
  /** Things done to the file that the user should know about (encoding fallback, skipped lines, renamed columns). */
  notices: string[];
  bytes: number;
}

const MB = 1_000_000;
const megabytes = (bytes: number): string => `${(bytes / MB).toLocaleString('en-US', { maximumFractionDigits: 1 })} MB`;

/** Thrown inside a pass to start again as Windows-1252. */
class Restart extends Error {}

/** Where parsed rows go: a table being built, or a prediction file being answered row by row. */
export interface RowSink {
  /** Rows of cells and the file line each starts on. */
  addRows(rows: string[][], lines: number[]): void;
  /** Called after every slice of the file, so the sink can do async work on what it gathered. */
  drain?(): Promise<void>;
}

/** What the file's layout turned out to be, for the sink that will take its rows. */
export interface RowLayout {
  delimiter: Delimiter;
  decimalComma: boolean;
  /** Estimated number of rows, to size arrays once. */
  capacityRows: number;
}

export interface RowStream<S extends RowSink> {
  sink: S;
  delimiter: Delimiter;
  encoding: TextEncodingName;
  notices: string[];
  bytes: number;
}

export async function readTable(file: Blob, options: ReadTableOptions = {}): Promise<ReadTableResult> {
  const stream = await streamRows(file, options, (layout) => new TableAssembler({ decimalComma: layout.decimalComma, capacityRows: layout.capacityRows }));
  const assembled = stream.sink.finish();
  return {
    table: assembled.table,
    delimiter: stream.delimiter,
    encoding: stream.encoding,
    hasHeader: assembled.hasHeader,
    notices: [...stream.notices, ...assembled.notices],
    bytes: stream.bytes,
  };
}

/**
 * Streams a delimited text file's rows into the sink `makeSink` builds once the layout is known:
 * size limit, encoding fallback (the sink is built again if the file is re-read), delimiter and
 * newline detection, progress and cancel, as readTable does.
 */
export async function streamRows<S extends RowSink>(file: Blob, options: ReadTableOptions, makeSink: (layout: RowLayout) => S): Promise<RowStream<S>> {
  const name = typeof (file as { name?: unknown }).name === 'string' ? `“${(file as File).name}”` : 'The file';
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_TABLE_BYTES;
  if (file.size > maxBytes)
    throw new TableError(`${name} is ${megabytes(file.size)}, more than the ${megabytes(maxBytes)} Lathe can read in this browser.`);
  if (file.size === 0) throw new TableError(`${name} is empty (0 bytes).`);
  options.signal?.throwIfAborted();
  try {
    return await readPass(file, name, options, new ChunkDecoder('utf-8'), makeSink);
  } catch (e) {
    if (!(e instanceof Restart)) throw e;
    return await readPass(file, name, options, new ChunkDecoder('windows-1252', true), makeSink);
  }
}

/** Characters per line in a text sample, to estimate the file's row count from its size. */
function rowsEstimate(sample: string, fileBytes: number): number {
  let lines = 0;
  for (let at = sample.indexOf('\n'); at >= 0; at = sample.indexOf('\n', at + 1)) lines++;
  const charsPerLine = sample.length / Math.max(1, lines);
  return Math.ceil((fileBytes / Math.max(1, charsPerLine)) * CAPACITY_HEADROOM);
}

async function readPass<S extends RowSink>(
  file: Blob, name: string, options: ReadTableOptions, decoder: ChunkDecoder, makeSink: (layout: RowLayout) => S,
): Promise<RowStream<S>> {
  const { signal, onProgress } = options;
  const total = file.size;
  const reader = file.stream().getReader();
  let bytesRead = 0;
  let sample = '';
  let sniffAt = SNIFF_MIN_CHARS;
  let layout: { rows: CsvRows; sink: S; delimiter: Delimiter; notices: string[] } | null = null;

  const startParsing = (complete: boolean): boolean => {
    const newline = detectNewline(sample);
    const delimiter = detectDelimiter(sample, newline, complete);
    if (!delimiter) {
      if (!complete && sample.length < SNIFF_MAX_CHARS) return false;
      const first = sample.trim().split(/\r\n|\r|\n/, 1)[0] ?? '';
      if (first === '') throw new TableError('The file has no rows: it is empty or holds only blank lines.');
      throw new TableError(
        `The file has only one column (“${first.trim().slice(0, 40)}”). Lathe needs at least two, inputs and a target, separated by commas, semicolons or tabs.`,
      );
    }
    const decimalComma = delimiter === ';';
    const notices: string[] = [];
    if (decimalComma && /\d,\d/.test(sample))
      notices.push('Values are separated by semicolons, so a comma inside a number is read as its decimal point (1,5 = 1.5).');
    const sink = makeSink({ delimiter, decimalComma, capacityRows: rowsEstimate(sample, total) });
    const rows = new CsvRows(delimiter, newline);
    layout = { rows, sink, delimiter, notices };
    rows.push(sample, (batch, lines) => sink.addRows(batch, lines));
    sample = '';
    return true;
  };

  const feed = (text: string): void => {
    if (text.indexOf('\u0000') >= 0)
      throw new TableError(`${name} contains a NUL byte near line ${layout?.rows.nextLine ?? 1}, so it is not a text table.`);
    if (layout) {
      const { rows, sink } = layout;
      rows.push(text, (batch, lines) => sink.addRows(batch, lines));
      return;
    }
    sample += text;
    if (sample.length >= sniffAt && !startParsing(false)) sniffAt *= 2;
  };

  // Browsers hand out chunks of tens of KB, Node one chunk per Blob part: either way text is parsed
  // in batches of about READ_SLICE_BYTES.
  let batch = '';
  let reportedAt = -Infinity;
  let reportedBytes = 0;
  const flush = async (): Promise<void> => {
    feed(batch);
    batch = '';
    const now = performance.now();
    if (bytesRead > reportedBytes && (now - reportedAt >= PROGRESS_INTERVAL_MS || bytesRead === total)) {
      onProgress?.(bytesRead, total);
      [reportedAt, reportedBytes] = [now, bytesRead];
    }
    if (layout) await (layout as { sink: S }).sink.drain?.();
    // A macrotask turn, so that a cancel sent to the worker arrives between batches.
    await yieldToEventLoop();
    signal?.throwIfAborted();
  };

  try {
    for (;;) {
      signal?.throwIfAborted();
      const { done, value } = await reader.read();
      if (done) break;
      for (let offset = 0; offset < value.length; offset += READ_SLICE_BYTES) {
        const bytes = value.subarray(offset, offset + READ_SLICE_BYTES);
        if (bytesRead === 0) refuseNonText(bytes.subarray(0, SNIFF_BYTES), name);
        bytesRead += bytes.length;
        const text = decoder.decode(bytes, false);
        if (text === RESTART) throw new Restart();
        batch += text;
        if (batch.length >= READ_SLICE_BYTES) await flush();
      }
    }
    const tail = decoder.decode(new Uint8Array(0), true);
    if (tail === RESTART) throw new Restart();
    batch += tail;
    await flush();
    if (!layout) startParsing(true);
    const { rows, sink, delimiter, notices } = layout!;
    rows.end((batch, lines) => sink.addRows(batch, lines));
    await sink.drain?.();
    if (rows.firstStrayQuoteLine !== null)
      notices.push(
        `Line ${rows.firstStrayQuoteLine} has a quoted value followed by more text before the next delimiter; the quote was kept as part of the value.`,
      );
    return { sink, delimiter, encoding: decoder.encoding, notices: [...(decoder.notice ? [decoder.notice] : []), ...notices], bytes: total };
  } finally {
    // Stops the underlying read when a pass ends early (error, cancel, restart); harmless after the end.
    await reader.cancel().catch(() => undefined);
  }
}
