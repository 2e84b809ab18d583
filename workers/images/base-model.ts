// The frozen base of transfer learning: MobileNetV2 (from nsfwjs, MIT; cut at out_relu and pooled
// at build time, scripts/image-assets.mjs), served with the app and precached, so it works
// offline. It turns images into 1,280 features once per job; the head trains on those. Loaded once
// per backend (its weights live there). Node (tests, benches) hands in its own files.
import * as tf from '@tensorflow/tfjs';
import type { ImageSet } from '../../shared/image-types';
import { yieldToEventLoop } from '../yield';
import { inputTensor, prepareImages, type ImageInput } from './image-source';

/** Features per image: MobileNetV2's last block has 1,280 channels. */
export const BASE_FEATURES = 1280;
/** Images per forward pass of the base: its activations at 96 px take about 20 MB per 32 images. */
const BASE_CHUNK_IMAGES = 32;

/** What a model.json and its weights are, where the worker cannot fetch (Node). */
export interface BaseModelFiles {
  modelJson: { modelTopology: unknown; weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[] };
  weights: ArrayBuffer;
}

let files: (() => Promise<BaseModelFiles>) | null = null;
let loaded: { backend: string; model: Promise<tf.LayersModel> } | null = null;

/** Tests and benches in Node give the base model's files; the browser fetches them. */
export function setBaseModelFiles(get: () => Promise<BaseModelFiles>): void {
  files = get;
  loaded = null;
}

/** The served model.json URL (the app's base + models/mobilenet-v2/). */
export function baseModelUrl(): string {
  // Read defensively: Node (tests) compiles this module without Vite's `import.meta.env`.
  const base = (import.meta as { env?: { BASE_URL?: string } }).env?.BASE_URL ?? '/';
  return new URL(`${base}models/mobilenet-v2/model.json`, self.location.origin).href;
}

/** The base's files as bytes (for an export that includes it). */
export async function baseModelFiles(): Promise<BaseModelFiles> {
  if (files) return files();
  const url = baseModelUrl();
  const modelJson = (await (await fetch(url)).json()) as BaseModelFiles['modelJson'];
  const weightsUrl = new URL(modelJson.weightsManifest[0]!.paths[0]!, url);
  const response = await fetch(weightsUrl);
  if (!response.ok) throw new Error(`The base model's weights could not be loaded (${response.status}).`);
  return { modelJson, weights: await response.arrayBuffer() };
}

/** The base on the current backend, loaded on first use. */
export function baseModel(): Promise<tf.LayersModel> {
  const backend = tf.getBackend();
  if (loaded?.backend === backend) return loaded.model;
  loaded?.model.then((m) => m.dispose(), () => undefined);
  const model = (async () => {
    if (files) {
      const f = await files();
      return tf.loadLayersModel(tf.io.fromMemory({ modelTopology: f.modelJson.modelTopology as tf.io.ModelJSON['modelTopology'], weightSpecs: f.modelJson.weightsManifest[0]!.weights, weightData: f.weights }));
    }
    return tf.loadLayersModel(baseModelUrl());
  })();
  loaded = { backend, model };
  model.catch(() => {
    if (loaded?.model === model) loaded = null;
  });
  return model;
}

/** MobileNetV2 takes RGB in [-1, 1]. */
export function baseInput(size: number): ImageInput {
  return { size, channels: 3, scale: 1 / 127.5, offset: -1 };
}

/**
 * Features of some images of a set (n × 1,280, on the device; the caller disposes it), a chunk at a
 * time, yielding between chunks so the worker keeps answering (pause, cancel, pings).
 */
export async function extractFeatures(set: ImageSet, rows: ArrayLike<number>, size: number, onChunk?: (done: number) => void): Promise<tf.Tensor2D> {
  const base = await baseModel();
  const input = baseInput(size);
  const parts: tf.Tensor2D[] = [];
  try {
    for (let start = 0; start < rows.length; start += BASE_CHUNK_IMAGES) {
      const chunk = Array.from({ length: Math.min(BASE_CHUNK_IMAGES, rows.length - start) }, (_, i) => rows[start + i]!);
      const px = prepareImages(set, chunk, size, 3);
      parts.push(tf.tidy(() => base.predict(inputTensor(px, chunk.length, input)) as tf.Tensor2D));
      // Wait for the device, so the yield lets messages in between real work.
      await parts[parts.length - 1]!.data();
      onChunk?.(start + chunk.length);
      await yieldToEventLoop();
    }
    if (parts.length === 0) return tf.zeros([0, BASE_FEATURES]);
    return tf.tidy(() => tf.concat(parts, 0));
  } finally {
    tf.dispose(parts);
  }
}
