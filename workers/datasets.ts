// The dataset half of the worker API: built-in samples made on demand, CSV files read as they
// stream in (progress, cancel), each dataset stored once by its content fingerprint, and the
// list, rename and delete behind the Datasets panel. Every write is one IndexedDB transaction.
import {
  datasetId, fingerprintDataset, fingerprintTable, summaryOf, tableBytes, tableDatasetFromMatrix, columnInfo,
  type Dataset, type DatasetSummary, type TableDataset,
} from '../shared/dataset';
import * as db from '../shared/db';
import { isTerminal, type JobRecord } from '../shared/jobs';
import { makeXorDataset, sampleInfo, type SampleId } from '../shared/samples';
import { inferPlan, TableError, type TableData } from '../shared/table';
import { readTable, type ReadTableOptions } from './table/read-table';
import { imageDataset } from './images/import-images';
import { readImageFile } from './images/sample-file';
import { decodeTextBytes, textDataset } from './text/text-dataset';

export interface DatasetDeps {
  database: () => Promise<db.LatheDb>;
  now: () => number;
  /** The bytes of a sample file under public/samples/ (fetched in the browser, read from disk in tests). */
  sampleFile: (file: string) => Promise<Blob>;
}

export interface TableImport {
  dataset: DatasetSummary;
  /** True when the same content was already stored: nothing new was written. */
  reused: boolean;
}

export function isQuotaError(err: unknown): boolean {
  const name = (err as { name?: string } | null)?.name;
  return name === 'QuotaExceededError' || (err instanceof Error && /quota/i.test(err.message));
}

/** Stores a dataset in one transaction unless the same content is stored already; a full disk stores nothing. */
export async function storeDataset(deps: DatasetDeps, dataset: Dataset): Promise<TableImport> {
  const database = await deps.database();
  const existing = await db.datasetByFingerprint(database, dataset.fingerprint);
  if (existing) return { dataset: existing, reused: true };
  try {
    await db.putDataset(database, dataset);
  } catch (err) {
    if (isQuotaError(err))
      throw new TableError(
        `Storage is full: “${dataset.name}” needs ${(dataset.byteLength / 1e6).toFixed(1)} MB and the browser refused it. Nothing was stored; delete old jobs or datasets and try again.`,
      );
    throw err;
  }
  return { dataset: summaryOf(dataset), reused: false };
}

/** A table read from a file as a dataset: fingerprinted, with Lathe's suggested plan. */
export async function tableDataset(
  table: TableData, opts: { sourceId: string; name: string; fileName: string | null; source: TableDataset['source']; notices: string[]; now: number; sampleId?: string },
): Promise<TableDataset> {
  const fingerprint = await fingerprintTable(table);
  return {
    id: datasetId(opts.sourceId, fingerprint),
    name: opts.name,
    kind: 'table',
    fingerprint,
    createdAt: opts.now,
    source: opts.source,
    fileName: opts.fileName,
    byteLength: tableBytes(table),
    rows: table.numRows,
    columns: table.columns.map(columnInfo),
    defaultPlan: inferPlan(table),
    notices: opts.notices,
    sampleId: opts.sampleId ?? null,
    table,
  };
}

/** A sample as a dataset in memory (generated, or read from its file); nothing is stored. */
export async function sampleDataset(deps: DatasetDeps, id: SampleId): Promise<Dataset> {
  const info = sampleInfo(id);
  if (!info) throw new Error(`There is no sample “${id}”.`);
  if (info.kind === 'images' && info.file) {
    const set = readImageFile(info.file, new Uint8Array(await (await deps.sampleFile(info.file)).arrayBuffer()));
    return imageDataset(set, { name: info.name, sourceId: id, source: 'sample', fileName: info.file, skipped: [], now: deps.now(), sampleId: id });
  }
  if (info.kind === 'text' && info.file) {
    const bytes = new Uint8Array(await (await deps.sampleFile(info.file)).arrayBuffer());
    const { text, notices } = decodeTextBytes(bytes, info.file);
    return textDataset(text, { name: info.name, sourceId: id, source: 'sample', fileName: info.file, notices, now: deps.now(), sampleId: id });
  }
  if (!info.file) {
    const input = makeXorDataset();
    return tableDatasetFromMatrix(input, await fingerprintDataset(input), deps.now());
  }
  const { table, notices } = await readTable(await deps.sampleFile(info.file));
  return tableDataset(table, { sourceId: id, name: info.name, fileName: info.file, source: 'sample', notices, now: deps.now(), sampleId: id });
}

/** A sample as a stored dataset, made (and stored) the first time it is asked for. */
export async function ensureSample(deps: DatasetDeps, id: SampleId): Promise<TableImport> {
  return storeDataset(deps, await sampleDataset(deps, id));
}

/**
 * Stored columns take about 1.5 times a CSV's bytes (a number and a category code per cell), so a
 * file needs that much free storage. Null where the browser does not say (Node, old browsers).
 */
const STORED_BYTES_PER_FILE_BYTE = 1.5;

async function storageLimitBytes(): Promise<number | null> {
  // WorkerNavigator has `storage` in browsers; the worker lib's types (and Node) may lack it.
  const storage = (globalThis.navigator as { storage?: { estimate?: () => Promise<StorageEstimate> } } | undefined)?.storage;
  const estimate = await storage?.estimate?.().catch(() => null);
  if (!estimate?.quota) return null;
  return Math.max(0, (estimate.quota - (estimate.usage ?? 0)) / STORED_BYTES_PER_FILE_BYTE);
}

/** Reads a user's CSV (streamed, cancellable) and stores it, unless the same content is stored already. */
export async function importTableFile(deps: DatasetDeps, file: Blob, options: ReadTableOptions = {}): Promise<TableImport> {
  const fileName = typeof (file as { name?: unknown }).name === 'string' ? (file as File).name : 'table.csv';
  const free = await storageLimitBytes();
  if (free !== null && file.size > free && options.maxBytes === undefined)
    throw new TableError(
      `“${fileName}” is ${(file.size / 1e6).toFixed(1)} MB, but this browser has room for about ${(free / 1e6).toFixed(1)} MB more of data. Free some space (delete old jobs or datasets), or use a smaller file.`,
    );
  const { table, notices } = await readTable(file, options);
  const name = fileName.replace(/\.(csv|tsv|txt)$/i, '') || fileName;
  return storeDataset(deps, await tableDataset(table, { sourceId: 'upload', name, fileName, source: 'upload', notices, now: deps.now() }));
}

/** Jobs that still need a dataset to resume, run, predict or export. */
export async function jobsUsing(database: db.LatheDb, id: string): Promise<JobRecord[]> {
  return (await db.listJobs(database)).filter((j) => j.datasetId === id);
}

export interface DeleteOutcome {
  deleted: boolean;
  /** Jobs that can still resume (or run) with this dataset; listed when `deleted` is false. */
  resumable: { id: string; name: string; state: JobRecord['state'] }[];
  /** Finished jobs that lose their predictions, evaluation and exports. */
  finished: number;
}

/**
 * Deletes a dataset. When resumable jobs still need it, nothing happens unless `force`: the page
 * shows which jobs and asks first. A running job's dataset is never deleted.
 */
export async function deleteDatasetChecked(deps: DatasetDeps, id: string, force: boolean): Promise<DeleteOutcome> {
  const database = await deps.database();
  const users = await jobsUsing(database, id);
  const running = users.find((j) => j.state === 'running');
  if (running) throw new Error(`“${running.name}” is training on this dataset right now; pause or cancel it first.`);
  const resumable = users.filter((j) => j.state !== 'completed').map((j) => ({ id: j.id, name: j.name, state: j.state }));
  const finished = users.filter((j) => isTerminal(j.state) && j.state === 'completed').length;
  if (resumable.length > 0 && !force) return { deleted: false, resumable, finished };
  await db.deleteDataset(database, id);
  return { deleted: true, resumable, finished };
}
