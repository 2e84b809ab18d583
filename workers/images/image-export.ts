// An image classifier as a TensorFlow.js layers model that stock `tf.loadLayersModel` loads: a
// CNN exactly as checkpointed; a transfer-learning job as one model, the frozen MobileNetV2 base
// (its uint8-quantized weights as shipped) followed by the trained head, so it takes an image and
// gives class logits. `userDefinedMetadata.lathe` carries the input size, scaling and class names.
import { version_layers } from '@tensorflow/tfjs';
import type { ImageDataset } from '../../shared/dataset';
import {
  APP_VERSION, LATHE_METADATA_KEY, MODEL_JSON_FILE, MODEL_METADATA_VERSION, MODEL_WEIGHTS_FILE,
  type ExportedFile, type LatheModelMetadata,
} from '../../shared/package-format';
import type { CheckpointSource } from '../export/source';
import { jsonBytes } from '../export/zip';
import { baseInput, baseModelFiles } from './base-model';
import { cnnInput } from './prepare';

interface LayerJson {
  class_name: string;
  config: Record<string, unknown> & { name: string };
  name?: string;
  inbound_nodes?: unknown[];
}
interface TopologyJson {
  class_name: string;
  config: { name?: string; layers: LayerJson[]; input_layers?: unknown[]; output_layers?: unknown[] } | LayerJson[];
}

export function imageMetadata(source: CheckpointSource, dataset: ImageDataset, now: number): LatheModelMetadata {
  const { job, checkpoint } = source;
  const m = job.config.model;
  const input = m.kind === 'transfer' ? baseInput(m.imageSize) : cnnInput(m.kind === 'cnn' ? m.imageSize : dataset.size, dataset.channels);
  return {
    metadataVersion: MODEL_METADATA_VERSION,
    appVersion: APP_VERSION,
    jobName: job.name,
    task: 'classification',
    featureNames: [],
    targetName: 'class',
    labels: [...dataset.classNames],
    normalization: null,
    targetNormalization: null,
    vocabulary: null,
    image: { size: input.size, channels: input.channels, scale: input.scale, offset: input.offset, base: m.kind === 'transfer' ? m.base : null },
    config: job.config,
    output: 'logits',
    step: checkpoint.cursor.globalStep,
    epoch: checkpoint.cursor.epoch,
    datasetFingerprint: checkpoint.datasetFingerprint,
    exportedAt: now,
  };
}

function sequentialLayers(topology: unknown): LayerJson[] {
  const t = topology as TopologyJson;
  const layers = Array.isArray(t.config) ? t.config : t.config.layers;
  if (!Array.isArray(layers)) throw new Error('The checkpoint does not describe a sequential head.');
  return layers;
}

/** model.json and its one weights file for an image job's newest checkpoint. */
export async function buildImageModelFiles(source: CheckpointSource, dataset: ImageDataset, now: number): Promise<ExportedFile[]> {
  const { job, checkpoint } = source;
  const metadata = { [LATHE_METADATA_KEY]: imageMetadata(source, dataset, now) };
  const headSpecs = checkpoint.weightSpecs.map((s) => ({ name: s.name, shape: [...s.shape], dtype: s.dtype }));
  let topology: unknown = checkpoint.modelTopology;
  let specs: unknown[] = headSpecs;
  let weights = new Uint8Array(checkpoint.weightData.slice(0));
  if (job.config.model.kind === 'transfer') {
    const base = await baseModelFiles();
    const functional = structuredClone(base.modelJson.modelTopology) as { model_config: { config: { layers: LayerJson[]; output_layers: unknown[] } } } & Record<string, unknown>;
    const config = functional.model_config.config;
    let previous = (config.output_layers[0] as [string, number, number])[0];
    for (const layer of sequentialLayers(checkpoint.modelTopology)) {
      const { batch_input_shape: _shape, ...rest } = layer.config;
      config.layers.push({ name: layer.config.name, class_name: layer.class_name, config: rest, inbound_nodes: [[[previous, 0, 0, {}]]] });
      previous = layer.config.name;
    }
    config.output_layers = [[previous, 0, 0]];
    topology = functional;
    specs = [...base.modelJson.weightsManifest[0]!.weights, ...headSpecs];
    const joined = new Uint8Array(base.weights.byteLength + weights.byteLength);
    joined.set(new Uint8Array(base.weights), 0);
    joined.set(weights, base.weights.byteLength);
    weights = joined;
  }
  const modelJson = {
    modelTopology: topology,
    format: 'layers-model',
    generatedBy: `TensorFlow.js tfjs-layers v${version_layers}`,
    convertedBy: null,
    weightsManifest: [{ paths: [MODEL_WEIGHTS_FILE], weights: specs }],
    userDefinedMetadata: metadata,
  };
  return [
    { name: MODEL_JSON_FILE, bytes: jsonBytes(modelJson), type: 'application/json' },
    { name: MODEL_WEIGHTS_FILE, bytes: weights, type: 'application/octet-stream' },
  ];
}
