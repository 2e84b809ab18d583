// The one IndexedDB schema for Lathe, its upgrade ladder, and the transactions both threads use.
// Rule (from idb): inside a transaction await only IndexedDB requests; serialize everything first.
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import { bulkOf, joinDataset, summaryOf, tableDatasetFromMatrix, type Dataset, type DatasetData, type DatasetSummary, type TableDatasetInput } from './dataset';
import { JOB_WRITE_STORES, writeJobInTx } from './sync-outbox';
import type { OutboxRow, SyncState } from './sync-types';
import type { JobRecord, JobState } from './jobs';
import type { RngState } from './rng';

export const DB_NAME = 'lathe';
/**
 * 1: jobs, checkpoints, datasets (numeric matrices), settings. 2: datasets as columns, with their
 * summaries in `dataset-info`. 3: the sync outbox and sync state.
 */
export const DB_VERSION = 3;
/** Checkpoints kept per job: the newest and one fallback. */
export const CHECKPOINTS_KEPT = 2;

export interface TensorSpec {
  name: string;
  shape: number[];
  dtype: 'float32' | 'int32' | 'bool';
}

export interface CheckpointCursor {
  /** Epoch the next step belongs to. */
  epoch: number;
  /** Index of the next batch within that epoch. */
  batch: number;
  /** Optimizer steps taken so far. */
  globalStep: number;
}

export interface CheckpointRecord {
  jobId: string;
  /** Increases with every checkpoint of a job. */
  seq: number;
  createdAt: number;
  configHash: string;
  datasetFingerprint: string;
  cursor: CheckpointCursor;
  /** RNG state at the start of the cursor's epoch (regenerates its shuffle) and now. */
  rng: { epochStart: RngState; current: RngState };
  modelTopology: unknown;
  weightSpecs: TensorSpec[];
  weightData: ArrayBuffer;
  optimizer: { name: string; specs: TensorSpec[]; data: ArrayBuffer; scalars: Record<string, number> };
  /** Per-epoch running sums, so a resumed epoch reports the same metrics. */
  epochAccumulators: Record<string, number>;
  history: JobRecord['history'];
  /** Train-set statistics the model's inputs were normalized with. */
  normalization: { mean: number[]; std: number[] } | null;
  /** A table's fitted column encoding (shared/table.ts), so predictions apply the same transform. */
  encoding?: unknown;
  byteLength: number;
  /** SHA-256 over everything above (see workers/checkpoint-codec.ts). */
  checksum: string;
}

export interface SettingRecord {
  key: string;
  value: unknown;
}

export interface LatheSchema extends DBSchema {
  jobs: { key: string; value: JobRecord; indexes: { 'by-state': JobState } };
  checkpoints: { key: [string, number]; value: CheckpointRecord; indexes: { 'by-job': string } };
  /** The bulk half of each dataset (a table's columns, or images' pixels and labels); never read to list or rename. */
  datasets: { key: string; value: DatasetData };
  /** Each dataset's summary: name, kind, size, and a table's columns and plan or images' classes and counts. */
  'dataset-info': { key: string; value: DatasetSummary; indexes: { 'by-fingerprint': string } };
  /** Job changes waiting for the sync server, by gap-free seq (see sync-outbox.ts). */
  outbox: { key: number; value: OutboxRow };
  /** The sync settings and cursors, under the key 'sync'. */
  sync: { key: string; value: SyncState };
  settings: { key: string; value: SettingRecord };
}

export type LatheDb = IDBPDatabase<LatheSchema>;

export function openLatheDb(name = DB_NAME): Promise<LatheDb> {
  return openDB<LatheSchema>(name, DB_VERSION, {
    upgrade(db, oldVersion, _newVersion, tx) {
      if (oldVersion < 1) {
        const jobs = db.createObjectStore('jobs', { keyPath: 'id' });
        jobs.createIndex('by-state', 'state');
        const checkpoints = db.createObjectStore('checkpoints', { keyPath: ['jobId', 'seq'] });
        checkpoints.createIndex('by-job', 'jobId');
        db.createObjectStore('datasets', { keyPath: 'id' });
        db.createObjectStore('settings', { keyPath: 'key' });
      }
      if (oldVersion < 2) {
        const info = db.createObjectStore('dataset-info', { keyPath: 'id' });
        info.createIndex('by-fingerprint', 'fingerprint');
        // Version 1 stored numeric matrices. Each becomes columns plus a summary, keeping its id and
        // fingerprint, so its jobs and checkpoints still match. Synchronous work only: the upgrade
        // transaction must not wait on anything but IndexedDB.
        const bulk = tx.objectStore('datasets');
        void bulk.openCursor().then(async function convert(cursor): Promise<void> {
          if (!cursor) return;
          const old = cursor.value as unknown as TableDatasetInput & { fingerprint: string; createdAt: number };
          const dataset = tableDatasetFromMatrix(old, old.fingerprint, old.createdAt, { id: old.id });
          await Promise.all([cursor.update(bulkOf(dataset)), info.put(summaryOf(dataset))]);
          await convert(await cursor.continue());
        }).catch(() => tx.abort()); // better no upgrade (the app says so) than a half-converted store
      }
      if (oldVersion < 3) {
        db.createObjectStore('outbox', { keyPath: 'seq' });
        db.createObjectStore('sync', { keyPath: 'key' });
      }
      // Later versions add `if (oldVersion < 4) { ... }` below, never editing the steps above.
    },
    blocking() {
      // Another tab wants a newer schema: let it proceed; this tab reopens on its next reload.
    },
  });
}

export async function listJobs(db: LatheDb): Promise<JobRecord[]> {
  const jobs = await db.getAll('jobs');
  return jobs.sort((a, b) => a.createdAt - b.createdAt);
}

export function getJob(db: LatheDb, id: string): Promise<JobRecord | undefined> {
  return db.get('jobs', id);
}

/** Writes a job (its version stamped, and queued for sync when sync is on); returns what was written. */
export async function putJob(db: LatheDb, job: JobRecord): Promise<JobRecord> {
  const tx = db.transaction(JOB_WRITE_STORES, 'readwrite');
  let written: JobRecord | null = null;
  await settleOrAbort(tx, [() => writeJobInTx(tx, job, Date.now()).then((j) => (written = j))]);
  return written!;
}

/**
 * Reads a job, applies `change`, and writes it back in one transaction, so two writers can never
 * interleave. `change` must be synchronous (it may throw, e.g. an illegal transition, which aborts).
 */
export async function updateJob(db: LatheDb, id: string, change: (job: JobRecord) => JobRecord): Promise<JobRecord> {
  const tx = db.transaction(JOB_WRITE_STORES, 'readwrite');
  const job = await tx.objectStore('jobs').get(id);
  if (!job) {
    tx.abort();
    await tx.done.catch(() => undefined);
    throw new Error(`There is no job with id ${id}.`);
  }
  let next: JobRecord;
  try {
    next = change(job);
  } catch (err) {
    tx.abort();
    await tx.done.catch(() => undefined);
    throw err;
  }
  let written = next;
  await settleOrAbort(tx, [() => writeJobInTx(tx, next, Date.now()).then((j) => (written = j))]);
  return written;
}

export async function oldestQueuedJob(db: LatheDb): Promise<JobRecord | undefined> {
  const queued = await db.getAllFromIndex('jobs', 'by-state', 'queued');
  return queued.sort((a, b) => (a.queuedAt ?? 0) - (b.queuedAt ?? 0) || a.createdAt - b.createdAt)[0];
}

export function jobsInState(db: LatheDb, state: JobState): Promise<JobRecord[]> {
  return db.getAllFromIndex('jobs', 'by-state', state);
}

/** Every checkpoint of `jobId`: a job written anew under an id it had before starts without them. */
function allCheckpointsOf(jobId: string): IDBKeyRange {
  return IDBKeyRange.bound([jobId, -Infinity], [jobId, Infinity]);
}

/**
 * Stores a dataset and a new queued job together, so neither exists without the other. A job
 * with an id given from outside (a server job claimed again) replaces the old copy and its
 * checkpoints, in the same transaction.
 */
export async function putDatasetAndJob(db: LatheDb, dataset: Dataset, job: JobRecord): Promise<JobRecord> {
  const tx = db.transaction(['datasets', 'dataset-info', 'checkpoints', ...JOB_WRITE_STORES], 'readwrite');
  let written = job;
  await settleOrAbort(tx, [
    () => tx.objectStore('checkpoints').delete(allCheckpointsOf(job.id)),
    () => tx.objectStore('datasets').put(bulkOf(dataset)),
    () => tx.objectStore('dataset-info').put(summaryOf(dataset)),
    () => writeJobInTx(tx, job, Date.now()).then((j) => (written = j)),
  ]);
  return written;
}

/** Stores a dataset (both halves) in one transaction: it lands whole or not at all. */
export async function putDataset(db: LatheDb, dataset: Dataset): Promise<void> {
  const tx = db.transaction(['datasets', 'dataset-info'], 'readwrite');
  await settleOrAbort(tx, [
    () => tx.objectStore('datasets').put(bulkOf(dataset)),
    () => tx.objectStore('dataset-info').put(summaryOf(dataset)),
  ]);
}

export async function getDataset(db: LatheDb, id: string): Promise<Dataset | undefined> {
  const tx = db.transaction(['datasets', 'dataset-info'], 'readonly');
  const [data, info] = await Promise.all([tx.objectStore('datasets').get(id), tx.objectStore('dataset-info').get(id)]);
  if (!data || !info) return undefined;
  return joinDataset(info, data);
}

export function getDatasetSummary(db: LatheDb, id: string): Promise<DatasetSummary | undefined> {
  return db.get('dataset-info', id);
}

/** Newest first. */
export async function listDatasets(db: LatheDb): Promise<DatasetSummary[]> {
  const all = await db.getAll('dataset-info');
  return all.sort((a, b) => b.createdAt - a.createdAt);
}

export function datasetByFingerprint(db: LatheDb, fingerprint: string): Promise<DatasetSummary | undefined> {
  return db.getFromIndex('dataset-info', 'by-fingerprint', fingerprint);
}

/** Renames a dataset; only its summary changes. */
export async function renameDataset(db: LatheDb, id: string, name: string): Promise<DatasetSummary> {
  const tx = db.transaction('dataset-info', 'readwrite');
  const info = await tx.store.get(id);
  if (!info) {
    tx.abort();
    await tx.done.catch(() => undefined);
    throw new Error(`There is no dataset with id ${id}.`);
  }
  const next = { ...info, name };
  await Promise.all([tx.store.put(next), tx.done]);
  return next;
}

/** Deletes a dataset's two records together. Callers check first which jobs still need it. */
export async function deleteDataset(db: LatheDb, id: string): Promise<void> {
  const tx = db.transaction(['datasets', 'dataset-info'], 'readwrite');
  await settleOrAbort(tx, [() => tx.objectStore('datasets').delete(id), () => tx.objectStore('dataset-info').delete(id)]);
}

/** Newest first. */
export async function listCheckpoints(db: LatheDb, jobId: string): Promise<CheckpointRecord[]> {
  const all = await db.getAllFromIndex('checkpoints', 'by-job', jobId);
  return all.sort((a, b) => b.seq - a.seq);
}

/**
 * Writes a serialized checkpoint and its job record in a single transaction and resolves once it
 * has committed. If it fails (e.g. QuotaExceededError) nothing changes, so the previous checkpoint
 * stays intact. Older checkpoints are then pruned to `CHECKPOINTS_KEPT` in a transaction of their
 * own, which `pruned` reports: deleting a multi-megabyte record (its blob file) costs about as
 * much as a quarter of the write, and the training loop need not wait for it. A prune that fails
 * or never runs (the tab closed) leaves one checkpoint too many, never too few; the next prune's
 * range covers it, and readers take the newest valid one anyway.
 */
export async function writeCheckpoint(
  db: LatheDb, checkpoint: CheckpointRecord, job: JobRecord,
): Promise<{ job: JobRecord; pruned: Promise<void> }> {
  const tx = db.transaction(['checkpoints', ...JOB_WRITE_STORES], 'readwrite');
  let written = job;
  await settleOrAbort(tx, [
    () => tx.objectStore('checkpoints').put(checkpoint),
    () => writeJobInTx(tx, job, Date.now()).then((j) => (written = j)),
  ]);
  return { job: written, pruned: pruneCheckpoints(db, checkpoint.jobId, checkpoint.seq) };
}

/**
 * Deletes a job's checkpoints older than the `CHECKPOINTS_KEPT` newest, `newestSeq` being the
 * newest. Sequence numbers only grow, so everything at or below `newestSeq - KEPT` is stale: one
 * range delete, without first reading the index.
 */
export async function pruneCheckpoints(db: LatheDb, jobId: string, newestSeq: number): Promise<void> {
  const tx = db.transaction('checkpoints', 'readwrite');
  await settleOrAbort(tx, [() => tx.store.delete(IDBKeyRange.bound([jobId, -Infinity], [jobId, newestSeq - CHECKPOINTS_KEPT]))]);
}

/** Any failed request aborts the whole transaction, so a half-written checkpoint never commits. */
async function settleOrAbort(tx: { abort(): void; done: Promise<void> }, requests: (() => Promise<unknown>)[]): Promise<void> {
  const made: Promise<unknown>[] = [];
  try {
    // Made in here, one by one: a request that throws as it is made (a full disk, an uncloneable
    // value) must abort the transaction too, or the requests made before it would commit alone.
    for (const request of requests) made.push(request());
    await Promise.all([...made, tx.done]);
  } catch (err) {
    try {
      tx.abort();
    } catch {
      // Already finished or aborted.
    }
    // The requests the abort failed are answered by `err`; they must not surface as unhandled.
    await Promise.allSettled([...made, tx.done]);
    throw err;
  }
}

// ---- Added for export/import (issue 4, workers/export/) ----

/**
 * Stores an imported job with its first checkpoint and, when not stored yet, its dataset, in one
 * transaction: an import either lands whole or changes nothing. Datasets are content-addressed,
 * so an existing one is kept; one with the same id but other data is refused. A job imported under
 * an id it had before (a server job's checkpoint claimed again) loses its old checkpoints, so the
 * imported one is the newest.
 */
export async function putImportedJob(db: LatheDb, job: JobRecord, checkpoint: CheckpointRecord, dataset: Dataset | null): Promise<JobRecord> {
  const tx = db.transaction(['checkpoints', 'datasets', 'dataset-info', ...JOB_WRITE_STORES], 'readwrite');
  let written = job;
  const info = tx.objectStore('dataset-info');
  await settleOrAbort(tx, [
    () => writeJobInTx(tx, job, Date.now()).then((j) => (written = j)),
    () => tx.objectStore('checkpoints').delete(allCheckpointsOf(job.id)),
    () => tx.objectStore('checkpoints').add(checkpoint),
    ...(dataset
      ? [
          () =>
            info.get(dataset.id).then((existing) => {
              if (!existing)
                return Promise.all([tx.objectStore('datasets').put(bulkOf(dataset)), info.add(summaryOf(dataset))]);
              if (existing.fingerprint !== dataset.fingerprint)
                throw new Error(`A different dataset is already stored under the id ${dataset.id}.`);
              return undefined;
            }),
        ]
      : []),
  ]);
  return written;
}

export async function getSetting<T>(db: LatheDb, key: string, fallback: T): Promise<T> {
  const rec = await db.get('settings', key);
  return rec === undefined ? fallback : (rec.value as T);
}

export async function putSetting(db: LatheDb, key: string, value: unknown): Promise<void> {
  await db.put('settings', { key, value });
}
