// The CSV import bench's worker side (bench.html only): one pass over a File by papaparse's own
// streaming reader (the bare parser, the baseline), or by the app's readTable (slices of the
// File's stream → papaparse's core parser → typed columns). Both read READ_SLICE_BYTES at a time.
import { parseFile } from '../table/papa';
import { READ_SLICE_BYTES, readTable } from '../table/read-table';

export type CsvParser = 'papaparse' | 'app';

export interface CsvParseRequest {
  file: File;
  parser: CsvParser;
}

export interface CsvParseResult {
  parser: CsvParser;
  bytes: number;
  /** Data rows (the app's count) or parsed rows with the header (papaparse's). */
  rows: number;
  /** From the call to the last row, measured in the worker. */
  ms: number;
}

/** papaparse streaming the File by itself, `READ_SLICE_BYTES` per chunk, counting rows. */
function bareParse(file: File): Promise<number> {
  return new Promise((resolve, reject) => {
    let rows = 0;
    parseFile(file, {
      delimiter: ',',
      newline: '\n',
      chunkSize: READ_SLICE_BYTES,
      chunk: (result) => void (rows += result.data.length),
      complete: () => resolve(rows),
      error: (err) => reject(err),
    });
  });
}

export async function csvParse({ file, parser }: CsvParseRequest): Promise<CsvParseResult> {
  const t0 = performance.now();
  const rows = parser === 'papaparse' ? await bareParse(file) : (await readTable(file)).table.numRows;
  return { parser, bytes: file.size, rows, ms: performance.now() - t0 };
}
