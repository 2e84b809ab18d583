// Bench worker entry (bench.html only, never the app): exposes BenchWorkerApi through Comlink.
// The measuring code lives in workers/bench/; the app's trainer never loads any of it.
import * as Comlink from 'comlink';
import { csvParse } from './bench/csv-parse';
import { describeEnvironment, prepareModel, useBackend, wasmBuild } from './bench/backend-switch';
import { resumeCheck } from './bench/resume-check';
import { runBackend } from './bench/suite';
import { runThreads } from './bench/threads-run';
import type { BenchWorkerApi } from './bench/types';
import { wasmThreadsInUse } from './wasm-threads';

const api: BenchWorkerApi = {
  environment: describeEnvironment,
  runBackend: (request, listener) => runBackend(request, { useBackend, listener: listener ?? null, prepareModel }),
  runThreads: (request) => runThreads(request, { useBackend, threadsInUse: wasmThreadsInUse, build: wasmBuild }),
  async resumeCheck(request) {
    const problem = await useBackend(request.backend, request.threads);
    if (problem) throw new Error(`${request.backend} cannot run here: ${problem}`);
    return resumeCheck(request, () => (request.backend === 'wasm' ? wasmThreadsInUse() : null));
  },
  csvParse,
};

Comlink.expose(api);
