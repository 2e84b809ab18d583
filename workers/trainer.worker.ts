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

/** Buffers of freshly built export bytes; each listed once, or postMessage throws. */
function buffersOf(files: ExportedFile[]): ArrayBuffer[] {
  return [...new Set(files.map((f) => f.bytes.buffer).filter((b): b is ArrayBuffer => b instanceof ArrayBuffer))];
}

function trainer(): TrainerApi {
  const api = createTrainerApi({ openDb: () => openLatheDb(), selectBackend: chooseBackend });
  return {
    ...api,
    async exportModel(jobId, options) {
      const result: ModelExport = await api.exportModel(jobId, options);
      return Comlink.transfer(result, buffersOf(result.kind === 'zip' ? [result.file] : result.files));
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
