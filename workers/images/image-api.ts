// The image part of the worker API: image files and camera frames become datasets (decoded here,
// never on the page), and a trained image classifier answers for one image (a file, or a camera
// frame several times a second) from its live model between training steps, and evaluates itself
// with a grid of misclassified images.
import { isTextModel, type TrainConfig } from '../../shared/config';
import type { ImageDataset } from '../../shared/dataset';
import * as db from '../../shared/db';
import type { Evaluation } from '../../shared/evaluation';
import { readImageHeader, tooLargeReason } from '../../shared/image-labels';
import type { TrainerApi } from '../../shared/protocol';
import { probeSpecFor, type ProbeSpec } from '../backend-probe';
import { storeDataset, type DatasetDeps } from '../datasets';
import { readOutputs } from '../export/predict';
import type { Active } from '../run-state';
import { CaptureBuffer } from './capture';
import { DecodeError, type ImageDecoder } from './decode';
import { evaluateImages } from './evaluate-images';
import { imageModelFor, imageLogits } from './image-model';
import { buildImageSet, imageDataset } from './import-images';

export interface ImageApiDeps extends DatasetDeps {
  decoder: ImageDecoder;
  ensureBackend: (spec?: ProbeSpec) => Promise<unknown>;
  /** The run this worker holds for `jobId` (running or paused), if any. */
  live: (jobId: string) => Active | null;
}

type ImageApi = Pick<TrainerApi, 'importImages' | 'cancelImageImport' | 'captureFrame' | 'clearCapture' | 'predictImage'>;

/** Why a config cannot train on an image dataset (empty when it can). */
export function modelFitsImages(dataset: ImageDataset, config: TrainConfig): string[] {
  if (config.model.kind === 'mlp' || isTextModel(config.model)) return [`“${dataset.name}” is a dataset of images: train it with the CNN or with transfer learning.`];
  if (dataset.classNames.length < 2) return [`“${dataset.name}” has only one class; a classifier needs at least 2.`];
  return [];
}

export function createImageApi(deps: ImageApiDeps): ImageApi & { evaluateImageJob: (jobId: string) => Promise<Evaluation | null> } {
  let importing: AbortController | null = null;
  const capture = new CaptureBuffer();
  const ensure = (config: TrainConfig, dataset: ImageDataset): Promise<unknown> => deps.ensureBackend(probeSpecFor(dataset, config));

  async function decodeForPrediction(dataset: ImageDataset, image: Blob | ImageBitmap): Promise<Uint8Array> {
    try {
      if (image instanceof Blob) {
        const head = readImageHeader(new Uint8Array(await image.slice(0, 65_536).arrayBuffer()));
        const tooLarge = head.width !== null && head.height !== null ? tooLargeReason(head.width, head.height) : null;
        if (tooLarge) throw new DecodeError(tooLarge);
        return await deps.decoder.decodeFile(image, dataset.size, dataset.channels);
      }
      return await deps.decoder.decodeFrame(image, dataset.size, dataset.channels);
    } catch (err) {
      if (err instanceof DecodeError) throw new Error(`The image ${err.message}.`);
      throw err;
    }
  }

  return {
    async importImages(request, onProgress) {
      importing?.abort();
      const controller = new AbortController();
      importing = controller;
      try {
        const { set, skipped } = await buildImageSet(request.files, request.useCapture ? capture : null, {
          decoder: deps.decoder,
          signal: controller.signal,
          now: () => performance.now(),
          // A Comlink proxy: its call returns a promise nobody needs.
          onProgress: onProgress ? (done, total) => void Promise.resolve(onProgress(done, total)).catch(() => undefined) : undefined,
        });
        const name = request.name.trim().slice(0, 200) || 'Images';
        const dataset = await imageDataset(set, { name, sourceId: 'images', source: 'upload', fileName: null, skipped, now: deps.now() });
        const stored = await storeDataset(deps, dataset);
        if (request.useCapture) capture.clear(null);
        return { ...stored, skipped: dataset.skipped, skippedCount: dataset.skippedCount };
      } finally {
        if (importing === controller) importing = null;
      }
    },

    async cancelImageImport() {
      importing?.abort();
    },

    async captureFrame(label, frame) {
      const name = label.trim();
      if (name === '') throw new Error('A class needs a name before frames can be recorded for it.');
      let pixels: Uint8Array;
      try {
        pixels = await deps.decoder.decodeFrame(frame, capture.size, capture.channels);
      } catch (err) {
        throw new Error(`The camera frame could not be used: ${err instanceof Error ? err.message : String(err)}`);
      }
      if (!capture.add(name, pixels)) throw new Error(`Lathe keeps at most ${capture.total} recorded frames; make a dataset of these first, or clear a class.`);
      return capture.counts();
    },

    async clearCapture(label) {
      capture.clear(label);
      return capture.counts();
    },

    async predictImage(jobId, image) {
      const m = await imageModelFor(await deps.database(), jobId, deps.live(jobId), ensure);
      try {
        const d = m.dataset;
        const pixels = await decodeForPrediction(d, image);
        const one = { ...d.images, pixels, labels: new Uint16Array(1), names: ['image'] };
        const logits = await imageLogits(m, one, [0]);
        return readOutputs([Array.from(logits)], { kind: 'logits', labels: d.classNames }, true);
      } finally {
        m.dispose();
      }
    },

    evaluateImageJob: async (jobId) => {
      const database = await deps.database();
      const job = await db.getJob(database, jobId);
      const summary = job ? await db.getDatasetSummary(database, job.datasetId) : undefined;
      if (summary?.kind !== 'images') return null;
      const m = await imageModelFor(database, jobId, deps.live(jobId), ensure);
      try {
        return await evaluateImages(jobId, m);
      } finally {
        m.dispose();
      }
    },
  };
}
