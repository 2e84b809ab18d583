// Worker entry: exposes the one TrainerApi object through Comlink. Nothing else runs here, except
// that exported files' buffers are transferred to the page instead of copied. Started with the
// name PROBE_WORKER_NAME (by the trainer itself, probe-remote.ts), the same script measures one
// backend for the automatic choice instead.
import * as Comlink from 'comlink';
import { openLatheDb } from '../shared/db';
import type { ExportedFile, ModelExport } from '../shared/package-format';
import type { TrainerApi } from '../shared/protocol';
import { chooseBackend, initBackend } from './backend';
import { probeOne } from './probe-measure';
import { PROBE_WORKER_NAME, type ProbeWorkerApi } from './probe-remote';
import { createTrainerApi } from './trainer-api';
import { browserDecoder } from './images/decode';

/** Sample files are served with the app (and precached by its service worker). */
async function sampleFile(file: string): Promise<Blob> {
  const url = new URL(`${import.meta.env.BASE_URL}samples/${file}`, self.location.origin);
  const response = await fetch(url);
  if (!response.ok) throw new Error(`Could not load the sample ${file} (${response.status} ${response.statusText}).`);
  return response.blob();
}

/** Buffers of freshly built export bytes; each listed once, or postMessage throws. */
function buffersOf(files: ExportedFile[]): ArrayBuffer[] {
  return [...new Set(files.map((f) => f.bytes.buffer).filter((b): b is ArrayBuffer => b instanceof ArrayBuffer))];
}

function trainer(): TrainerApi {
  const api = createTrainerApi({ openDb: () => openLatheDb(), selectBackend: chooseBackend, sampleFile, imageDecoder: browserDecoder });
  return {
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
    async generateText(jobId, request, onChars) {
      try {
        return await api.generateText(jobId, request, onChars);
      } finally {
        (onChars as Partial<Comlink.Remote<unknown>> | undefined)?.[Comlink.releaseProxy]?.();
      }
    },
    async generateImportedText(files, request, onChars) {
      try {
        return await api.generateImportedText(files, request, onChars);
      } finally {
        (onChars as Partial<Comlink.Remote<unknown>> | undefined)?.[Comlink.releaseProxy]?.();
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
}

const prober: ProbeWorkerApi = { probe: (backend, spec) => probeOne(backend, spec, initBackend) };

export type WorkerApi = ReturnType<typeof trainer>;

Comlink.expose(self.name === PROBE_WORKER_NAME ? prober : trainer());
