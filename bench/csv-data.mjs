// @ts-check
// The CSV the parse benches read: a deterministic (LCG) table of about `targetBytes` bytes, with an
// id column, numeric columns in several notations, integers, two categorical columns and a label.
// bench/csv-parse-bench.mjs (Node) and bench/ui-csv-import.mjs (browser) read the same data.
import { closeSync, openSync, writeSync } from 'node:fs';

export const CSV_HEADER = 'id,x1,x2,x3,x4,x5,count,color,city,label';

/**
 * Yields the table as text blocks of about 1 MB, header first.
 * @param {number} targetBytes
 * @returns {Generator<string>}
 */
export function* csvBlocks(targetBytes) {
  let seed = 12345;
  const rand = () => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  const colors = ['red', 'green', 'blue', 'yellow', 'purple', 'orange', 'black', 'white'];
  const cities = Array.from({ length: 40 }, (_, i) => `city_${i}`);
  let block = `${CSV_HEADER}\n`;
  let bytes = block.length;
  for (let i = 1; bytes < targetBytes; i++) {
    const line = `${[
      i,
      (rand() * 100).toFixed(4),
      (rand() * 10 - 5).toFixed(3),
      (rand() * 1e4).toFixed(2),
      rand().toFixed(6),
      (rand() * 2 - 1).toExponential(3),
      Math.floor(rand() * 100),
      colors[Math.floor(rand() * colors.length)],
      cities[Math.floor(rand() * cities.length)],
      rand() < 0.5 ? 'yes' : 'no',
    ].join(',')}\n`;
    block += line;
    bytes += line.length;
    if (block.length >= 1_000_000) {
      yield block;
      block = '';
    }
  }
  if (block !== '') yield block;
}

/** @param {number} targetBytes @returns {Uint8Array} the whole table as UTF-8 bytes */
export function generateCsv(targetBytes) {
  return new TextEncoder().encode([...csvBlocks(targetBytes)].join(''));
}

/**
 * Writes the table to `path` block by block (never one 50 MB string). Returns its size in bytes.
 * @param {string} path
 * @param {number} targetBytes
 */
export function writeCsv(path, targetBytes) {
  const fd = openSync(path, 'w');
  let size = 0;
  try {
    for (const block of csvBlocks(targetBytes)) size += writeSync(fd, block);
  } finally {
    closeSync(fd);
  }
  return size;
}
