// The one IndexedDB schema for Lathe, its upgrade ladder, and the transactions both threads use.
// Rule (from idb): inside a transaction await only IndexedDB requests; serialize everything first.
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import type { Dataset } from './dataset';
import type { JobRecord, JobState } from './jobs';
import type { RngState } from './rng';

export const DB_NAME = 'lathe';
export const DB_VERSION = 1;
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
  datasets: { key: string; value: Dataset };
  settings: { key: string; value: SettingRecord };
}

export type LatheDb = IDBPDatabase<LatheSchema>;

export function openLatheDb(name = DB_NAME): Promise<LatheDb> {
  return openDB<LatheSchema>(name, DB_VERSION, {
    upgrade(db, oldVersion) {
      if (oldVersion < 1) {
        const jobs = db.createObjectStore('jobs', { keyPath: 'id' });
        jobs.createIndex('by-state', 'state');
        const checkpoints = db.createObjectStore('checkpoints', { keyPath: ['jobId', 'seq'] });
        checkpoints.createIndex('by-job', 'jobId');
        db.createObjectStore('datasets', { keyPath: 'id' });
        db.createObjectStore('settings', { keyPath: 'key' });
      }
      // Later versions add `if (oldVersion < 2) { ... }` below, never editing the steps above.
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

export async function putJob(db: LatheDb, job: JobRecord): Promise<void> {
  await db.put('jobs', job);
}

/**
 * Reads a job, applies `change`, and writes it back in one transaction, so two writers can never
 * interleave. `change` must be synchronous (it may throw, e.g. an illegal transition, which aborts).
 */
export async function updateJob(db: LatheDb, id: string, change: (job: JobRecord) => JobRecord): Promise<JobRecord> {
  const tx = db.transaction('jobs', 'readwrite');
  const job = await tx.store.get(id);
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
  await tx.store.put(next);
  await tx.done;
  return next;
}

export async function oldestQueuedJob(db: LatheDb): Promise<JobRecord | undefined> {
  const queued = await db.getAllFromIndex('jobs', 'by-state', 'queued');
  return queued.sort((a, b) => (a.queuedAt ?? 0) - (b.queuedAt ?? 0) || a.createdAt - b.createdAt)[0];
}

export function jobsInState(db: LatheDb, state: JobState): Promise<JobRecord[]> {
  return db.getAllFromIndex('jobs', 'by-state', state);
}

/** Stores a dataset and a new queued job together, so neither exists without the other. */
export async function putDatasetAndJob(db: LatheDb, dataset: Dataset, job: JobRecord): Promise<void> {
  const tx = db.transaction(['datasets', 'jobs'], 'readwrite');
  await settleOrAbort(tx, [tx.objectStore('datasets').put(dataset), tx.objectStore('jobs').put(job)]);
}

export function getDataset(db: LatheDb, id: string): Promise<Dataset | undefined> {
  return db.get('datasets', id);
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
export async function writeCheckpoint(db: LatheDb, checkpoint: CheckpointRecord, job: JobRecord): Promise<{ pruned: Promise<void> }> {
  const tx = db.transaction(['checkpoints', 'jobs'], 'readwrite');
  await settleOrAbort(tx, [tx.objectStore('checkpoints').put(checkpoint), tx.objectStore('jobs').put(job)]);
  return { pruned: pruneCheckpoints(db, checkpoint.jobId, checkpoint.seq) };
}

/**
 * Deletes a job's checkpoints older than the `CHECKPOINTS_KEPT` newest, `newestSeq` being the
 * newest. Sequence numbers only grow, so everything at or below `newestSeq - KEPT` is stale: one
 * range delete, without first reading the index.
 */
export async function pruneCheckpoints(db: LatheDb, jobId: string, newestSeq: number): Promise<void> {
  const tx = db.transaction('checkpoints', 'readwrite');
  await settleOrAbort(tx, [tx.store.delete(IDBKeyRange.bound([jobId, -Infinity], [jobId, newestSeq - CHECKPOINTS_KEPT]))]);
}

/** Any failed request aborts the whole transaction, so a half-written checkpoint never commits. */
async function settleOrAbort(tx: { abort(): void; done: Promise<void> }, requests: Promise<unknown>[]): Promise<void> {
  try {
    await Promise.all([...requests, tx.done]);
  } catch (err) {
    try {
      tx.abort();
    } catch {
      // Already finished or aborted.
    }
    await tx.done.catch(() => undefined);
    throw err;
  }
}

// ---- Added for export/import (issue 4, workers/export/) ----

/**
 * Stores an imported job with its first checkpoint and, when not stored yet, its dataset, in one
 * transaction: an import either lands whole or changes nothing. Datasets are content-addressed,
 * so an existing one is kept; one with the same id but other data is refused.
 */
export async function putImportedJob(db: LatheDb, job: JobRecord, checkpoint: CheckpointRecord, dataset: Dataset | null): Promise<void> {
  const tx = db.transaction(['jobs', 'checkpoints', 'datasets'], 'readwrite');
  const writes: Promise<unknown>[] = [tx.objectStore('jobs').add(job), tx.objectStore('checkpoints').add(checkpoint)];
  if (dataset) {
    const datasets = tx.objectStore('datasets');
    writes.push(
      datasets.get(dataset.id).then((existing) => {
        if (!existing) return datasets.add(dataset);
        if (existing.fingerprint !== dataset.fingerprint)
          throw new Error(`A different dataset is already stored under the id ${dataset.id}.`);
        return undefined;
      }),
    );
  }
  await settleOrAbort(tx, writes);
}

export async function getSetting<T>(db: LatheDb, key: string, fallback: T): Promise<T> {
  const rec = await db.get('settings', key);
  return rec === undefined ? fallback : (rec.value as T);
}

export async function putSetting(db: LatheDb, key: string, value: unknown): Promise<void> {
  await db.put('settings', { key, value });
}
