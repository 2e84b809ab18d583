// Exports a job's newest good checkpoint as a TensorFlow.js layers model (model.json + one weights
// shard) that `tf.loadLayersModel` loads unchanged, with Lathe's preprocessing metadata under
// `userDefinedMetadata.lathe`. Pure byte work: no tensors, so it needs no backend.
import { version_layers } from '@tensorflow/tfjs';
import type { LatheDb } from '../../shared/db';
import {
  APP_VERSION, LATHE_METADATA_KEY, MODEL_JSON_FILE, MODEL_METADATA_VERSION, MODEL_WEIGHTS_FILE,
  type ExportedFile, type LatheModelMetadata, type ModelExport,
} from '../../shared/package-format';
import { normalizationOf } from '../data';
import { loadCheckpointSource, loadExportSource, type CheckpointSource, type ExportSource } from './source';
import { buildTextModelFiles } from '../text/text-export';
import { buildImageModelFiles } from '../images/image-export';
import { fileSlug, jsonBytes, writeZip } from './zip';

export function latheMetadata({ job, checkpoint, encoding }: ExportSource, now: number): LatheModelMetadata {
  const target = encoding.target;
  return {
    metadataVersion: MODEL_METADATA_VERSION,
    appVersion: APP_VERSION,
    jobName: job.name,
    task: encoding.task,
    featureNames: [...encoding.inputNames],
    targetName: target.name,
    labels: 'classNames' in target ? [...target.classNames] : [],
    normalization: normalizationOf(encoding),
    targetNormalization: 'std' in target ? { mean: target.mean, std: target.std } : null,
    table: encoding,
    vocabulary: null,
    config: job.config,
    // The app trains on logits (softmax cross-entropy), so the last layer is linear.
    output: encoding.task === 'classification' ? 'logits' : 'value',
    step: checkpoint.cursor.globalStep,
    epoch: checkpoint.cursor.epoch,
    datasetFingerprint: checkpoint.datasetFingerprint,
    exportedAt: now,
  };
}

/** model.json and its weights shard, exactly as `LayersModel.save` would lay them out. */
export function buildModelFiles(source: CheckpointSource, now: number, metadata: LatheModelMetadata = latheMetadata(source as ExportSource, now)): ExportedFile[] {
  const { checkpoint } = source;
  const modelJson = {
    // The checkpoint's own topology: its weight names are the ones its weights were saved under.
    modelTopology: checkpoint.modelTopology,
    format: 'layers-model',
    generatedBy: `TensorFlow.js tfjs-layers v${version_layers}`,
    convertedBy: null,
    weightsManifest: [
      {
        paths: [MODEL_WEIGHTS_FILE],
        weights: checkpoint.weightSpecs.map((s) => ({ name: s.name, shape: [...s.shape], dtype: s.dtype })),
      },
    ],
    userDefinedMetadata: { [LATHE_METADATA_KEY]: metadata },
  };
  return [
    { name: MODEL_JSON_FILE, bytes: jsonBytes(modelJson), type: 'application/json' },
    { name: MODEL_WEIGHTS_FILE, bytes: new Uint8Array(checkpoint.weightData.slice(0)), type: 'application/octet-stream' },
  ];
}

export function modelZipName(jobName: string): string {
  return `${fileSlug(jobName)}-tfjs-model.zip`;
}

export async function exportModel(database: LatheDb, jobId: string, options: { zip: boolean }, now: number): Promise<ModelExport> {
  const stored = await loadCheckpointSource(database, jobId);
  // An image classifier (issue 9) exports its own way: input size, scaling and classes, and for
  // transfer learning the base and head as one model.
  const files =
    stored.dataset.kind === 'images' ? await buildImageModelFiles(stored, stored.dataset, now)
    : stored.dataset.kind === 'text' ? buildTextModelFiles(stored, stored.dataset, now)
    : buildModelFiles(await loadExportSource(database, jobId), now);
  const source = stored;
  if (!options.zip) return { kind: 'files', files };
  return { kind: 'zip', file: { name: modelZipName(source.job.name), bytes: writeZip(files, now), type: 'application/zip' } };
}
