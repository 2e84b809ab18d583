// A character model as a TensorFlow.js layers model that stock `tf.loadLayersModel` loads: the
// checkpoint's own topology and weights (embedding, LSTM/GRU, dense: no custom layer), with its
// vocabulary and sequence length under `userDefinedMetadata.lathe`.
import type { TextDataset } from '../../shared/dataset';
import { APP_VERSION, MODEL_METADATA_VERSION, type ExportedFile, type LatheModelMetadata } from '../../shared/package-format';
import { buildModelFiles } from '../export/model-export';
import type { CheckpointSource } from '../export/source';
import { rnnOf, type TextEncoding } from './text-source';

export function textMetadata(source: CheckpointSource, dataset: TextDataset, now: number): LatheModelMetadata {
  const { job, checkpoint } = source;
  const encoding = (checkpoint.encoding as TextEncoding | undefined) ?? { kind: 'text', vocabulary: dataset.vocabulary, sequenceLength: rnnOf(job.config).sequenceLength };
  return {
    metadataVersion: MODEL_METADATA_VERSION,
    appVersion: APP_VERSION,
    jobName: job.name,
    task: 'classification',
    featureNames: [],
    targetName: 'next character',
    labels: ['', ...encoding.vocabulary],
    normalization: null,
    targetNormalization: null,
    vocabulary: [...encoding.vocabulary],
    text: { sequenceLength: encoding.sequenceLength, unknownToken: 0 },
    config: job.config,
    output: 'logits',
    step: checkpoint.cursor.globalStep,
    epoch: checkpoint.cursor.epoch,
    datasetFingerprint: checkpoint.datasetFingerprint,
    exportedAt: now,
  };
}

export function buildTextModelFiles(source: CheckpointSource, dataset: TextDataset, now: number): ExportedFile[] {
  return buildModelFiles(source, now, textMetadata(source, dataset, now));
}
