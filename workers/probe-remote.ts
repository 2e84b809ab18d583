// Measures one backend in a probe worker of its own: a second instance of the trainer worker's
// script, started with the name PROBE_WORKER_NAME, which then exposes ProbeWorkerApi instead of
// the trainer's API. tfjs has one engine per worker, so backends probed this way start (and
// compile their shaders) in parallel with each other and with the trainer worker's own probes.
import * as Comlink from 'comlink';
import type { BackendName, BackendProbeResult } from '../shared/protocol';
import { LATE_PROBE_MAX_MS, type RemoteProbe } from './backend-probe';
import type { ProbeSpec } from './probe-measure';

/** The `name` a worker is started with when it is to probe, not train. */
export const PROBE_WORKER_NAME = 'lathe-probe';

export interface ProbeWorkerApi {
  probe(backend: BackendName, spec: ProbeSpec): Promise<BackendProbeResult>;
}

function failed(backend: BackendName, why: string): BackendProbeResult {
  return { backend, ok: false, samplesPerSec: null, warmupMs: null, reason: `${backend}: ${why}` };
}

/** A RemoteProbe that runs each measurement in a fresh worker of `scriptUrl`, terminated after. */
export function remoteProbe(scriptUrl: string): RemoteProbe {
  return async (backend, spec) => {
    let worker: Worker | null = null;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const w = new Worker(scriptUrl, { type: 'module', name: PROBE_WORKER_NAME });
      worker = w;
      const api = Comlink.wrap<ProbeWorkerApi>(w);
      const stopped = new Promise<BackendProbeResult>((resolve) => {
        w.addEventListener('error', (e) => resolve(failed(backend, `the probe worker died (${e.message || 'unknown error'})`)));
        timer = setTimeout(() => resolve(failed(backend, `no result within ${LATE_PROBE_MAX_MS / 1000} s`)), LATE_PROBE_MAX_MS);
      });
      return await Promise.race([api.probe(backend, spec), stopped]);
    } catch (err) {
      return failed(backend, `could not probe in a worker (${err instanceof Error ? err.message : String(err)})`);
    } finally {
      clearTimeout(timer);
      worker?.terminate();
    }
  };
}
