// An image job's model as predictions and evaluation use it: the live one while this worker trains
// (or holds) the job, else rebuilt from its newest good checkpoint exactly as training builds it;
// and the one path from stored-size pixels to class logits (a CNN directly; transfer learning
// through the frozen base, then the head).
import * as tf from '@tensorflow/tfjs';
import type { TrainConfig } from '../../shared/config';
import type { ImageDataset } from '../../shared/dataset';
import * as db from '../../shared/db';
import type { ImageSet } from '../../shared/image-types';
import { decodeTensors } from '../checkpoint-codec';
import { loadCheckpointSource } from '../export/source';
import { buildModel } from '../model';
import type { Active } from '../run-state';
import { BASE_FEATURES, baseInput, baseModel } from './base-model';
import { inputTensor, MAX_IMAGE_CHUNK, prepareImages } from './image-source';
import { cnnInput } from './prepare';

export interface ImageModel {
  model: tf.LayersModel;
  config: TrainConfig;
  dataset: ImageDataset;
  /** The checkpoint step (or the live step) of these weights. */
  step: number;
  live: boolean;
  /** Frees a rebuilt model; a live one belongs to its session. */
  dispose(): void;
}

/** The shape a job's model takes as input. */
export function modelInputShape(config: TrainConfig, dataset: Pick<ImageDataset, 'channels'>): number[] {
  return config.model.kind === 'cnn' ? [config.model.imageSize, config.model.imageSize, dataset.channels] : [BASE_FEATURES];
}

export function imageDatasetOf(d: Awaited<ReturnType<typeof db.getDataset>>, what: string): ImageDataset {
  if (!d) throw new Error(`The dataset of ${what} is no longer stored.`);
  if (d.kind !== 'images') throw new Error(`${what} was trained on a table, not on images.`);
  return d;
}

export async function imageModelFor(
  database: db.LatheDb, jobId: string, live: Active | null, ensureBackend: (config: TrainConfig, dataset: ImageDataset) => Promise<unknown>,
): Promise<ImageModel> {
  if (live) {
    const dataset = imageDatasetOf(await db.getDataset(database, live.job.datasetId), `“${live.job.name}”`);
    return { model: live.session.model, config: live.job.config, dataset, step: live.session.cursor.globalStep, live: live.state === 'running', dispose: () => undefined };
  }
  const { job, checkpoint, dataset: stored } = await loadCheckpointSource(database, jobId);
  const dataset = imageDatasetOf(stored, `“${job.name}”`);
  await ensureBackend(job.config, dataset);
  const inputShape = modelInputShape(job.config, dataset);
  const model = buildModel(job.config, { numFeatures: inputShape[0]!, numOutputs: dataset.classNames.length, inputShape });
  const weights = decodeTensors(checkpoint.weightSpecs, checkpoint.weightData);
  try {
    model.setWeights(weights);
  } catch (err) {
    model.dispose();
    throw err;
  } finally {
    tf.dispose(weights);
  }
  return { model, config: job.config, dataset, step: checkpoint.cursor.globalStep, live: false, dispose: () => model.dispose() };
}

/**
 * Logits (count × classes) for some images of a set at the dataset's stored size, in chunks, read
 * back asynchronously (WebGPU has no synchronous reads).
 */
export async function imageLogits(m: Pick<ImageModel, 'model' | 'config'>, set: ImageSet, rows: ArrayLike<number>): Promise<Float32Array> {
  const cfg = m.config.model;
  const base = cfg.kind === 'transfer' ? await baseModel() : null;
  const parts: Float32Array[] = [];
  for (let start = 0; start < rows.length; start += MAX_IMAGE_CHUNK) {
    const chunk = Array.from({ length: Math.min(MAX_IMAGE_CHUNK, rows.length - start) }, (_, i) => rows[start + i]!);
    const out = tf.tidy(() => {
      if (cfg.kind === 'transfer') {
        const px = prepareImages(set, chunk, cfg.imageSize, 3);
        const features = base!.predict(inputTensor(px, chunk.length, baseInput(cfg.imageSize))) as tf.Tensor;
        return m.model.predict(features) as tf.Tensor;
      }
      if (cfg.kind !== 'cnn') throw new Error('An image job needs a CNN or transfer learning.');
      const px = prepareImages(set, chunk, cfg.imageSize, set.channels);
      return m.model.predict(inputTensor(px, chunk.length, cnnInput(cfg.imageSize, set.channels))) as tf.Tensor;
    });
    try {
      parts.push((await out.data()) as Float32Array);
    } finally {
      out.dispose();
    }
  }
  const all = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    all.set(p, offset);
    offset += p.length;
  }
  return all;
}
