// One backend's whole bench: switch to it, then for each model time the app's loop, the bare-fit
// baseline and checkpoints, and check memory. Runs in a fresh worker per backend (see src/bench/);
// the backend switch is injected, so unit tests run this in Node on the cpu backend.
import { openBenchDb, openRawDb, resetBenchDbs } from './bench-db';
import { benchCheckpoints } from './checkpoint-bench';
import { runFit } from './fit-run';
import { runLoop, type CheckpointTarget, type ProgressListener } from './loop-run';
import { runMemory } from './memory-run';
import { CADENCE } from './cadence';
import type { BackendRunRequest, BackendRunResult, ModelResult, ModelSpec } from './types';
import { makeWorkload } from './workload';
import type { BackendName } from '../../shared/protocol';

/** Weights and biases of the dense stack the spec describes. */
function countParams(spec: ModelSpec): number {
  const sizes = [spec.features, ...spec.hidden, spec.classes];
  return sizes.slice(1).reduce((n, units, i) => n + sizes[i]! * units + units, 0);
}

async function benchModel(
  spec: ModelSpec,
  request: BackendRunRequest,
  target: CheckpointTarget,
  raw: Awaited<ReturnType<typeof openRawDb>>,
  listener: ProgressListener | null,
): Promise<Omit<ModelResult, 'threads'>> {
  const w = await makeWorkload(spec);
  const loop = await runLoop(w, request, target, listener);
  let checkpoint;
  try {
    checkpoint = await benchCheckpoints(w, loop.session, target, raw, request.backend, request.checkpointReps);
  } finally {
    loop.session.dispose();
  }
  const memoryTarget = { db: target.db, jobId: `${target.jobId}-memory`, seq: { value: 0 } };
  const memory = await runMemory(w, request.memoryEpochs, memoryTarget, request.backend);
  // The same steps as the loop took, timed over the same window, validation passes included.
  const { steady } = loop.result;
  const fit = await runFit(w, steady.fromStep, steady.fromStep + steady.steps);
  return {
    id: spec.id,
    params: countParams(spec),
    loop: loop.result,
    fit,
    loopOverFit: steady.samplesPerSec / fit.steady.samplesPerSec,
    memory,
    checkpoint,
  };
}

export interface SuiteDeps {
  /** Makes `backend` the active tfjs backend; null on success, else why it cannot run here. */
  useBackend: (backend: BackendName) => Promise<string | null>;
  listener: ProgressListener | null;
  /**
   * Sets the backend up for one model as the app would (WASM: the app's automatic thread count
   * for that model's size) and returns the threads it computes with (null: not a threaded backend).
   */
  prepareModel?: (backend: BackendName, spec: ModelSpec) => Promise<number | null>;
}

export async function runBackend(request: BackendRunRequest, { useBackend, listener, prepareModel }: SuiteDeps): Promise<BackendRunResult> {
  const t0 = performance.now();
  const problem = await useBackend(request.backend);
  const initMs = performance.now() - t0;
  if (problem) return { backend: request.backend, available: false, reason: problem, initMs: null, cadence: CADENCE, models: [] };
  await resetBenchDbs();
  const db = await openBenchDb();
  const raw = await openRawDb();
  const models: ModelResult[] = [];
  let reason: string | null = null;
  try {
    for (const spec of request.models) {
      const target: CheckpointTarget = { db, jobId: `bench-${request.backend}-${spec.id}`, seq: { value: 0 } };
      const threads = prepareModel ? await prepareModel(request.backend, spec) : null;
      models.push({ ...(await benchModel(spec, request, target, raw, listener)), threads });
    }
  } catch (err) {
    // E.g. a lost WebGPU device: keep what was measured and say why the rest is missing.
    reason = `failed: ${err instanceof Error ? err.message : String(err)}`;
  } finally {
    db.close();
    raw.close();
    await resetBenchDbs();
  }
  return { backend: request.backend, available: true, reason, initMs, cadence: CADENCE, models };
}
