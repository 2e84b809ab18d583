// Reading a large file the way the worker does: as a stream, in slices, with progress up to the
// file's size, a cancel that leaves nothing behind, and slice boundaries that never split a value,
// a character or a line break wrongly.
import { describe, expect, it } from 'vitest';
import { TableError } from '../../shared/table';
import { READ_SLICE_BYTES, readTable } from '../../workers/table/read-table';
import { chunkedFile, column, readCsv, values } from '../fixtures/table-helpers';

const COLORS = ['red', 'green', 'blue', 'amber'];

/** A numeric + categorical CSV of at least `bytes` bytes; row i is predictable from i. */
function bigCsv(bytes: number): { data: Uint8Array; rows: number } {
  const parts = ['id,a,b,color,label\n'];
  let size = parts[0]!.length;
  let rows = 0;
  while (size < bytes) {
    const line = `${rows},${(rows * 0.25).toFixed(2)},${rows % 97},${COLORS[rows % 4]},${rows % 3 === 0 ? 'yes' : 'no'}\n`;
    parts.push(line);
    size += line.length;
    rows++;
  }
  return { data: new TextEncoder().encode(parts.join('')), rows };
}

/** A Blob that refuses to be read whole, so a test fails if the reader ever does. */
class StreamOnlyBlob extends Blob {
  override text(): Promise<string> {
    throw new Error('read whole with text()');
  }
  override arrayBuffer(): Promise<ArrayBuffer> {
    throw new Error('read whole with arrayBuffer()');
  }
}

describe('a 20 MB file', () => {
  const { data, rows } = bigCsv(20 * 1024 * 1024);

  it('is read as a stream, with progress rising to the total, into the right rows', async () => {
    const progress: [number, number][] = [];
    const result = await readTable(new StreamOnlyBlob([data as BlobPart]), { onProgress: (read, total) => progress.push([read, total]) });
    expect(progress.length).toBeGreaterThan(1);
    expect(progress.every(([, total]) => total === data.length)).toBe(true);
    expect(progress.every(([read], i) => i === 0 || read > progress[i - 1]![0])).toBe(true);
    expect(progress.at(-1)![0]).toBe(data.length);
    const { table } = result;
    expect(table.numRows).toBe(rows);
    expect(result.notices).toEqual([]);
    const last = rows - 1;
    expect(column(table, 'a').numbers[last]).toBe(Math.fround(last * 0.25));
    expect(column(table, 'b').numbers[last]).toBe(last % 97);
    expect(column(table, 'color').categories).toEqual(['red', 'green', 'blue', 'amber']);
    expect(column(table, 'color').codes![last]).toBe(last % 4);
    expect(column(table, 'id').inferred).toBe('ignored');
    expect(table.columns.every((c) => c.numbers.length === rows && c.numbers.buffer.byteLength === rows * 4)).toBe(true);
  });

  it('a cancel part-way rejects with an AbortError and returns nothing', async () => {
    const controller = new AbortController();
    let lastProgress = 0;
    const reading = readTable(new Blob([data as BlobPart]), {
      signal: controller.signal,
      onProgress: (read) => {
        lastProgress = read;
        if (read >= data.length / 3) controller.abort();
      },
    });
    await expect(reading).rejects.toMatchObject({ name: 'AbortError' });
    expect(lastProgress).toBeLessThan(data.length / 2);
  });
});

describe('chunks as browsers hand them out', () => {
  it('a file streamed in small odd-sized chunks reads exactly as in one piece', async () => {
    const lines = ['name,note,value,label'];
    for (let i = 0; i < 40_000; i++)
      lines.push(`Zürich ${i % 50},"line one, é\r\nline two ${i % 7}",${(i * 0.37).toFixed(2)},${['ja', 'nein', 'vielleicht'][i % 3]}`);
    const bytes = new TextEncoder().encode(lines.join('\r\n') + '\r\n');
    const whole = await readCsv(bytes);
    const progress: number[] = [];
    const chunked = await readTable(chunkedFile(bytes, 65_537), { onProgress: (read) => progress.push(read) });
    expect(chunked).toEqual(whole);
    expect(whole.table.numRows).toBe(40_000);
    expect(column(whole.table, 'note').categories).toContain('line one, é\r\nline two 3');
    expect(progress.at(-1)).toBe(bytes.length);
    expect(progress.length).toBeLessThan(bytes.length / 65_537);
  });
});

describe('limits', () => {
  it('a cancel before the start reads nothing', async () => {
    const progress: number[] = [];
    const reading = readTable(new Blob(['a,b\n1,2\n']), { signal: AbortSignal.abort(), onProgress: (read) => progress.push(read) });
    await expect(reading).rejects.toMatchObject({ name: 'AbortError' });
    expect(progress).toEqual([]);
  });

  it('a file over the size limit names its size and the limit', async () => {
    const file = new File([new Uint8Array(2_600_000)], 'huge.csv');
    await expect(readTable(file, { maxBytes: 2_000_000 })).rejects.toThrow(
      new TableError('“huge.csv” is 2.6 MB, more than the 2 MB Lathe can read in this browser.'),
    );
  });
});

describe('slice boundaries', () => {
  /** Pads an ASCII CSV so that `marker` (its first occurrence) starts `offset` bytes before a slice boundary. */
  function straddling(head: string, marker: string, tail: string, offset: number, eol = '\n'): string {
    const padRows = Math.ceil(READ_SLICE_BYTES / 8);
    let text = head + `pad,1${eol}`.repeat(padRows);
    const before = READ_SLICE_BYTES * 2 - offset - new TextEncoder().encode(text).length;
    text += `${'p'.repeat(before - 2 - eol.length)},1${eol}`;
    expect(new TextEncoder().encode(text).length).toBe(READ_SLICE_BYTES * 2 - offset);
    return text + marker + tail;
  }

  it('a character split across two slices decodes whole', async () => {
    const text = straddling('word,n\n', 'café,2\n', 'plain,3\n', 4);
    const { table, encoding } = await readCsv(text);
    expect(encoding).toBe('utf-8');
    expect(column(table, 'word').categories).toContain('café');
  });

  it('a CRLF split across two slices is one line break', async () => {
    const text = straddling('word,n\r\n', 'x,2\r\n', 'y,3\r\n', 4, '\r\n');
    const { table } = await readCsv(text);
    expect(values(column(table, 'n').numbers).slice(-2)).toEqual([2, 3]);
    expect(table.numRows).toBe(text.split('\r\n').length - 2);
  });

  it('a Windows-1252 byte after a megabyte of ASCII switches the decoding from there, with a notice', async () => {
    const text = straddling('word,n\n', 'caf\u00e9,2\n', 'na\u00efve,3\n', 100);
    const bytes = Uint8Array.from(text, (ch) => ch.charCodeAt(0));
    const { table, encoding, notices } = await readCsv(bytes);
    expect(encoding).toBe('windows-1252');
    expect(column(table, 'word').categories).toEqual(expect.arrayContaining(['café', 'naïve']));
    expect(notices[0]).toMatch(/Check that “café” looks right/);
  });

  it('a file that turns to Windows-1252 after valid UTF-8 is read again from the start, progress included', async () => {
    const head = new TextEncoder().encode('word,n\nZürich,1\n');
    const rest = Uint8Array.from(straddling('', 'caf\u00e9,2\n', '', 100), (ch) => ch.charCodeAt(0));
    const bytes = new Uint8Array(head.length + rest.length);
    bytes.set(head);
    bytes.set(rest, head.length);
    const progress: number[] = [];
    const { table, encoding, notices } = await readCsv(bytes, 'mixed.csv', { onProgress: (read) => progress.push(read) });
    expect(encoding).toBe('windows-1252');
    expect(column(table, 'word').categories).toEqual(expect.arrayContaining(['ZÃ¼rich', 'café']));
    expect(notices[0]).toMatch(/mixes UTF-8 text/);
    expect(progress.at(-1)).toBe(bytes.length);
  });

  it('a quote that never closes in a large file names the line it opens on', async () => {
    const { data } = bigCsv(3 * READ_SLICE_BYTES);
    const text = new TextDecoder().decode(data).replace('\n5,', '\n5,"');
    await expect(readCsv(text)).rejects.toThrow(/^Line 7: a quoted value starts on this line and never ends/);
  });
});
