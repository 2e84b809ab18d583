// Bench worker entry (bench.html only, never the app): exposes BenchWorkerApi through Comlink.
// The measuring code lives in workers/bench/; the app's trainer never loads any of it.
import * as Comlink from 'comlink';
import { describeEnvironment, useBackend } from './bench/backend-switch';
import { runBackend } from './bench/suite';
import type { BenchWorkerApi } from './bench/types';

const api: BenchWorkerApi = {
  environment: describeEnvironment,
  runBackend: (request, listener) => runBackend(request, { useBackend, listener: listener ?? null }),
};

Comlink.expose(api);
