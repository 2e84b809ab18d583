// A character model as a TensorFlow.js layers model that `tf.loadLayersModel` loads: the
// checkpoint's own topology and weights, with its vocabulary and sequence length under
// `userDefinedMetadata.lathe`. Recurrent models are stock layers only (embedding, LSTM/GRU,
// dense); a transformer uses Lathe's custom layers, so its export also ships lathe-layers.js
// (the app's own implementation) and says in its metadata how to register it before loading.
import type { TextDataset } from '../../shared/dataset';
import { APP_VERSION, MODEL_METADATA_VERSION, type ExportedFile, type LatheModelMetadata } from '../../shared/package-format';
import { buildModelFiles } from '../export/model-export';
import type { CheckpointSource } from '../export/source';
import { textModelOf, type TextEncoding } from './text-source';
import { LATHE_LAYER_CLASS_NAMES, LATHE_LAYERS_FILE, LATHE_LAYERS_SOURCE } from './transformer-model';

/** What a stock TF.js user runs before loading a transformer export (also in README.md, "Text"). */
export const HOW_TO_LOAD_CUSTOM_LAYERS =
  `import * as tf from '@tensorflow/tfjs'; import { registerLatheLayers } from './${LATHE_LAYERS_FILE}'; ` +
  `registerLatheLayers(tf); const model = await tf.loadLayersModel('model.json');`;

export function textMetadata(source: CheckpointSource, dataset: TextDataset, now: number): LatheModelMetadata {
  const { job, checkpoint } = source;
  const encoding = (checkpoint.encoding as TextEncoding | undefined) ?? { kind: 'text', vocabulary: dataset.vocabulary, sequenceLength: textModelOf(job.config).sequenceLength };
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
    ...(job.config.model.kind === 'transformer'
      ? { customLayers: { file: LATHE_LAYERS_FILE, classes: [...LATHE_LAYER_CLASS_NAMES], howToLoad: HOW_TO_LOAD_CUSTOM_LAYERS } }
      : {}),
    config: job.config,
    output: 'logits',
    step: checkpoint.cursor.globalStep,
    epoch: checkpoint.cursor.epoch,
    datasetFingerprint: checkpoint.datasetFingerprint,
    exportedAt: now,
  };
}

export function buildTextModelFiles(source: CheckpointSource, dataset: TextDataset, now: number): ExportedFile[] {
  const files = buildModelFiles(source, now, textMetadata(source, dataset, now));
  if (source.job.config.model.kind !== 'transformer') return files;
  return [...files, { name: LATHE_LAYERS_FILE, bytes: new TextEncoder().encode(LATHE_LAYERS_SOURCE), type: 'text/javascript' }];
}
