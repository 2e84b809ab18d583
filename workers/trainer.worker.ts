// Worker entry: exposes the one TrainerApi object through Comlink. Nothing else runs here, except
// that exported files' buffers are transferred to the page instead of copied.
import * as Comlink from 'comlink';
import { openLatheDb } from '../shared/db';
import type { ExportedFile, ModelExport } from '../shared/package-format';
import type { TrainerApi } from '../shared/protocol';
import { chooseBackend } from './backend';
import { createTrainerApi } from './trainer-api';
import { browserDecoder } from './images/decode';

/** Sample files are served with the app (and precached by its service worker). */
async function sampleFile(file: string): Promise<Blob> {
  const url = new URL(`${import.meta.env.BASE_URL}samples/${file}`, self.location.origin);
  const response = await fetch(url);
  if (!response.ok) throw new Error(`Could not load the sample ${file} (${response.status} ${response.statusText}).`);
  return response.blob();
}

const api = createTrainerApi({ openDb: () => openLatheDb(), selectBackend: chooseBackend, sampleFile, imageDecoder: browserDecoder });

/** Buffers of freshly built export bytes; each listed once, or postMessage throws. */
function buffersOf(files: ExportedFile[]): ArrayBuffer[] {
  return [...new Set(files.map((f) => f.bytes.buffer).filter((b): b is ArrayBuffer => b instanceof ArrayBuffer))];
}

const exposed: TrainerApi = {
  ...api,
  async exportModel(jobId, options) {
    const result: ModelExport = await api.exportModel(jobId, options);
    return Comlink.transfer(result, buffersOf(result.kind === 'zip' ? [result.file] : result.files));
  },
  async importTable(file, onProgress) {
    try {
      return await api.importTable(file, onProgress);
    } finally {
      // A Comlink proxy holds a MessagePort until released.
      (onProgress as Partial<Comlink.Remote<unknown>> | undefined)?.[Comlink.releaseProxy]?.();
    }
  },
  async importImages(request, onProgress) {
    try {
      return await api.importImages(request, onProgress);
    } finally {
      (onProgress as Partial<Comlink.Remote<unknown>> | undefined)?.[Comlink.releaseProxy]?.();
    }
  },
  async predictFile(jobId, file) {
    const out = await api.predictFile(jobId, file);
    return Comlink.transfer(out, buffersOf([out]));
  },
  async exportPackage(jobId, options) {
    const file = await api.exportPackage(jobId, options);
    return Comlink.transfer(file, buffersOf([file]));
  },
};

export type WorkerApi = typeof exposed;

Comlink.expose(exposed);
