// Zip reading and writing for exports and imports (fflate, synchronous: the archives are small and
// this runs in the worker), plus the small byte helpers the export modules share.
import { unzipSync, zipSync, type Zippable } from 'fflate';
import { ImportError, MAX_UNZIPPED_BYTES } from '../../shared/package-format';

/** Deflate level: 6 is fflate's default; float weights barely compress at any level. */
const ZIP_LEVEL = 6;

/** Reads every file of a zip; a truncated or damaged archive becomes an ImportError naming the file. */
export function readZip(fileName: string, bytes: Uint8Array): Map<string, Uint8Array> {
  let total = 0;
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(bytes, {
      filter: (f) => {
        if (f.name.endsWith('/')) return false;
        // Sizes come from the archive's own directory, so this stops a zip bomb before inflating it.
        total += f.originalSize;
        if (total > MAX_UNZIPPED_BYTES)
          throw new ImportError(`“${fileName}” unpacks to more than ${MAX_UNZIPPED_BYTES / 1024 ** 3} GiB, more than Lathe imports.`);
        return true;
      },
    });
  } catch (err) {
    if (err instanceof ImportError) throw err;
    const detail = err instanceof Error ? err.message : String(err);
    throw new ImportError(`“${fileName}” is not a complete zip archive: it may be truncated or damaged (${detail}).`);
  }
  return new Map(Object.entries(entries));
}

export function writeZip(files: { name: string; bytes: Uint8Array }[], mtimeMs: number): Uint8Array {
  const tree: Zippable = {};
  for (const f of files) tree[f.name] = [f.bytes, { level: ZIP_LEVEL }];
  // The zip clock starts in 1980; clamp so a test clock at 0 still writes a valid archive.
  return zipSync(tree, { mtime: new Date(Math.max(mtimeMs, Date.UTC(1980, 0, 2))) });
}

export function jsonBytes(value: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value, null, 1));
}

/** Parses JSON bytes; a syntax error becomes an ImportError naming the file inside the import. */
export function parseJsonBytes(bytes: Uint8Array, what: string): unknown {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new ImportError(`${what} is not valid JSON: it is not UTF-8 text.`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new ImportError(`${what} is not valid JSON (${err instanceof Error ? err.message : String(err)}).`);
  }
}

/** An exact-size ArrayBuffer holding a copy of the bytes (a view may sit inside a larger buffer). */
export function ownBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.slice().buffer;
}

export function viewBytes(v: ArrayBufferView | ArrayBuffer): Uint8Array {
  return v instanceof ArrayBuffer ? new Uint8Array(v) : new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
}

/** A file name from a job name: letters, digits and dashes. */
export function fileSlug(name: string): string {
  const slug = name
    .normalize('NFKD')
    .replace(/[^\w\s-]/g, '')
    .trim()
    .toLowerCase()
    .replace(/[\s_-]+/g, '-')
    .slice(0, 60)
    .replace(/-+$/, '');
  return slug || 'lathe-job';
}

export function formatBytes(n: number): string {
  return n.toLocaleString('en-US');
}
