// What every export and the app's predictions start from: a job, its newest checkpoint that passes
// its checksum, its dataset, and the table encoding its model was trained with, read from IndexedDB.
import { requireTable, type Dataset, type TableDataset } from '../../shared/dataset';
import * as db from '../../shared/db';
import type { JobRecord } from '../../shared/jobs';
import { fitEncoding, type TableEncoding } from '../../shared/table';
import { verifyCheckpoint } from '../checkpoint-codec';
import { splitTable } from '../data';

/** A job, its newest good checkpoint and its dataset, whatever its kind (packages need no more). */
export interface CheckpointSource {
  job: JobRecord;
  checkpoint: db.CheckpointRecord;
  dataset: Dataset;
}

/** A table job's checkpoint source, with the encoding its model was trained with. */
export interface ExportSource extends CheckpointSource {
  dataset: TableDataset;
  /** How raw rows become the model's inputs, and its outputs class names or target units. */
  encoding: TableEncoding;
}

/**
 * The encoding a checkpoint's model expects. Checkpoints written before encodings were stored get
 * it refitted: the fit is deterministic (same plan, split and training rows), so it is the same.
 */
export function encodingOf(job: JobRecord, checkpoint: db.CheckpointRecord, dataset: TableDataset): TableEncoding {
  if (checkpoint.encoding) return checkpoint.encoding as TableEncoding;
  const { plan, train } = splitTable(dataset, job.config);
  return fitEncoding(dataset.table, plan, train);
}

export async function newestGoodCheckpoint(database: db.LatheDb, job: JobRecord): Promise<db.CheckpointRecord> {
  const checkpoints = await db.listCheckpoints(database, job.id);
  if (checkpoints.length === 0)
    throw new Error(`“${job.name}” has no checkpoint yet, so there is nothing to export. Train it for a moment first.`);
  for (const c of checkpoints) if (await verifyCheckpoint(c)) return c;
  throw new Error(`All ${checkpoints.length} checkpoints of “${job.name}” failed their checksum (the stored data is damaged), so it cannot be exported.`);
}

export async function loadCheckpointSource(database: db.LatheDb, jobId: string): Promise<CheckpointSource> {
  const job = await db.getJob(database, jobId);
  if (!job) throw new Error(`There is no job with id ${jobId}.`);
  const checkpoint = await newestGoodCheckpoint(database, job);
  const dataset = await db.getDataset(database, job.datasetId);
  if (!dataset) throw new Error(`The dataset of “${job.name}” (${job.datasetId}) is no longer stored, so its labels and feature names are unknown.`);
  return { job, checkpoint, dataset };
}

/** A table job's checkpoint source; an image job is refused, naming the dataset. */
export async function loadExportSource(database: db.LatheDb, jobId: string): Promise<ExportSource> {
  const source = await loadCheckpointSource(database, jobId);
  const dataset = requireTable(source.dataset, 'This');
  return { ...source, dataset, encoding: encodingOf(source.job, source.checkpoint, dataset) };
}

/** Number of model outputs an encoding implies: one per class, or one value. */
export function outputsOf(encoding: TableEncoding): number {
  return 'classNames' in encoding.target ? encoding.target.classNames.length : 1;
}
