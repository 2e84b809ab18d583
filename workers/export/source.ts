// What every export and the app's predictions start from: a job, its newest checkpoint that passes
// its checksum, and its dataset (for names and labels), read from IndexedDB.
import type { Dataset } from '../../shared/dataset';
import * as db from '../../shared/db';
import type { JobRecord } from '../../shared/jobs';
import { verifyCheckpoint } from '../checkpoint-codec';

export interface ExportSource {
  job: JobRecord;
  checkpoint: db.CheckpointRecord;
  dataset: Dataset;
}

export async function loadExportSource(database: db.LatheDb, jobId: string): Promise<ExportSource> {
  const job = await db.getJob(database, jobId);
  if (!job) throw new Error(`There is no job with id ${jobId}.`);
  const checkpoints = await db.listCheckpoints(database, jobId);
  if (checkpoints.length === 0)
    throw new Error(`“${job.name}” has no checkpoint yet, so there is nothing to export. Train it for a moment first.`);
  let checkpoint: db.CheckpointRecord | undefined;
  for (const c of checkpoints) {
    if (await verifyCheckpoint(c)) {
      checkpoint = c;
      break;
    }
  }
  if (!checkpoint)
    throw new Error(`All ${checkpoints.length} checkpoints of “${job.name}” failed their checksum (the stored data is damaged), so it cannot be exported.`);
  const dataset = await db.getDataset(database, job.datasetId);
  if (!dataset) throw new Error(`The dataset of “${job.name}” (${job.datasetId}) is no longer stored, so its labels and feature names are unknown.`);
  return { job, checkpoint, dataset };
}

/** Number of model outputs the dataset implies: one per class, or one value. */
export function outputsFor(d: { task: string; classNames: string[] }): number {
  return d.task === 'classification' ? d.classNames.length : 1;
}
