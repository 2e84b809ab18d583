// Rebuilds a TrainingSession for a job: loads its dataset, refuses a resume whose config or data
// changed, picks the newest checkpoint that passes its checksum, and restores it.
import { hashConfig } from '../shared/config';
import * as db from '../shared/db';
import type { Dataset } from '../shared/dataset';
import type { JobRecord } from '../shared/jobs';
import type { WorkerSettings } from '../shared/protocol';
import { restoreInto, verifyCheckpoint } from './checkpoint-codec';
import { prepareSource } from './data-source';
import { buildModel, buildOptimizer } from './model';
import { TrainingSession, type SessionState } from './session';

/** A problem with the job itself (not with the worker): it fails the job with this message. */
export class JobProblem extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JobProblem';
  }
}

export interface LoadedSession {
  session: TrainingSession;
  checkpoint: db.CheckpointRecord | null;
  datasetFingerprint: string;
  notice: string | null;
}

async function pickCheckpoint(database: db.LatheDb, job: JobRecord): Promise<{ checkpoint: db.CheckpointRecord | null; notice: string | null }> {
  const all = await db.listCheckpoints(database, job.id);
  const skipped: number[] = [];
  for (const c of all) {
    if (await verifyCheckpoint(c)) {
      const notice = skipped.length
        ? `The newest checkpoint (step ${skipped.join(', ')}) failed its checksum, so training resumed from the previous one (step ${c.cursor.globalStep}).`
        : null;
      return { checkpoint: c, notice };
    }
    skipped.push(c.cursor.globalStep);
  }
  if (all.length > 0)
    throw new JobProblem(`All ${all.length} checkpoints of this job failed their checksum (the stored data is damaged), so it cannot resume.`);
  return { checkpoint: null, notice: null };
}

export async function loadSession(
  database: db.LatheDb,
  job: JobRecord,
  settings: WorkerSettings,
  preloaded?: Dataset,
): Promise<LoadedSession> {
  const dataset = preloaded ?? (await db.getDataset(database, job.datasetId));
  if (!dataset) throw new JobProblem(`The dataset of this job (${job.datasetId}) is no longer stored, so it cannot run.`);
  const configHash = await hashConfig(job.config);
  if (configHash !== job.configHash)
    throw new JobProblem(`This job's training configuration no longer matches the one it was created with (hash ${configHash.slice(0, 12)} ≠ ${job.configHash.slice(0, 12)}), so it cannot resume.`);
  const { checkpoint, notice } = await pickCheckpoint(database, job);
  if (checkpoint && checkpoint.configHash !== configHash)
    throw new JobProblem(`Resume refused: the checkpoint was made with a different training configuration (hash ${checkpoint.configHash.slice(0, 12)}, the job now has ${configHash.slice(0, 12)}). Resuming would not continue the same run.`);
  if (checkpoint && checkpoint.datasetFingerprint !== dataset.fingerprint)
    throw new JobProblem(`Resume refused: the dataset differs from the one the checkpoint was trained on (fingerprint ${checkpoint.datasetFingerprint.slice(0, 12)} ≠ ${dataset.fingerprint.slice(0, 12)}).`);
  let prepared: Awaited<ReturnType<typeof prepareSource>>;
  try {
    prepared = await prepareSource(dataset, job.config);
  } catch (err) {
    throw new JobProblem(err instanceof Error ? err.message : String(err));
  }
  const { source, objective } = prepared;
  const model = buildModel(job.config, { numFeatures: source.inputShape[0]!, numOutputs: source.numOutputs, inputShape: source.inputShape });
  const optimizer = buildOptimizer(job.config.optimizer, job.config.learningRate);
  let restored: SessionState | undefined;
  try {
    if (checkpoint) restored = await restoreInto(checkpoint, model, optimizer, job.config.optimizer);
  } catch (err) {
    source.dispose();
    model.dispose();
    optimizer.dispose();
    throw new JobProblem(`The checkpoint could not be restored: ${err instanceof Error ? err.message : String(err)}`);
  }
  const session = new TrainingSession({
    config: job.config,
    source,
    objective,
    model,
    optimizer,
    historyEverySteps: settings.historyEverySteps,
    checkpointIntervalMs: settings.checkpointIntervalSec * 1000,
    restored,
  });
  return { session, checkpoint, datasetFingerprint: dataset.fingerprint, notice };
}
