// Exports a resumable training package (`.lathe`): a zip of manifest.json (job, config, checkpoint
// metadata, dataset metadata, checksums) plus the checkpoint's weight and optimizer buffers and,
// optionally, the dataset's columns. See shared/package-format.ts.
import type { LatheDb } from '../../shared/db';
import { sha256Hex } from '../../shared/hash';
import {
  APP_VERSION, PACKAGE_EXTENSION, PACKAGE_FORMAT, PACKAGE_FORMAT_VERSION, PACKAGE_MIME_TYPE, PACKAGE_PATHS,
  type CheckpointMeta, type DatasetMeta, type ExportedFile, type PackageFileEntry, type PackageManifest,
} from '../../shared/package-format';
import { summaryOf } from '../../shared/dataset';
import { datasetFiles } from './dataset-files';
import { loadCheckpointSource, type CheckpointSource } from './source';
import { fileSlug, jsonBytes, viewBytes, writeZip } from './zip';

export function splitCheckpoint(c: CheckpointSource['checkpoint']): { meta: CheckpointMeta; weights: Uint8Array; optimizer: Uint8Array } {
  const { weightData, optimizer, ...rest } = c;
  const { data, ...optimizerMeta } = optimizer;
  return { meta: { ...rest, optimizer: optimizerMeta }, weights: viewBytes(weightData), optimizer: viewBytes(data) };
}

export async function buildPackage(source: CheckpointSource, options: { includeDataset: boolean }, now: number): Promise<ExportedFile> {
  const { job, checkpoint, dataset } = source;
  const { meta, weights, optimizer } = splitCheckpoint(checkpoint);
  const payload: { name: string; bytes: Uint8Array }[] = [
    { name: PACKAGE_PATHS.weights, bytes: weights },
    { name: PACKAGE_PATHS.optimizer, bytes: optimizer },
  ];
  if (options.includeDataset) payload.push(...datasetFiles(dataset));
  const files: PackageFileEntry[] = [];
  for (const p of payload) files.push({ path: p.name, byteLength: p.bytes.byteLength, sha256: await sha256Hex(p.bytes) });
  const manifest: PackageManifest = {
    format: PACKAGE_FORMAT,
    formatVersion: PACKAGE_FORMAT_VERSION,
    appVersion: APP_VERSION,
    createdAt: now,
    // The checkpoint's history is the one that matches its weights; the job's may run past it.
    job: { ...job, history: [] },
    config: job.config,
    configHash: job.configHash,
    checkpoint: meta,
    dataset: { included: options.includeDataset, meta: summaryOf(dataset) satisfies DatasetMeta },
    files,
  };
  const bytes = writeZip([{ name: PACKAGE_PATHS.manifest, bytes: jsonBytes(manifest) }, ...payload], now);
  return { name: `${fileSlug(job.name)}${PACKAGE_EXTENSION}`, bytes, type: PACKAGE_MIME_TYPE };
}

export async function exportPackage(
  database: LatheDb,
  jobId: string,
  options: { includeDataset: boolean },
  now: number,
): Promise<ExportedFile> {
  return buildPackage(await loadCheckpointSource(database, jobId), options, now);
}
