// The bench's WASM threads section: the app's loop (progress and checkpoints on, as in the
// per-backend bench) on WASM with a given thread count. The page runs it once with 1 thread and
// once with every core, each in a fresh worker, and reports the ratio.
import { openBenchDb, resetBenchDbs } from './bench-db';
import { runLoop, type CheckpointTarget } from './loop-run';
import type { ThreadsRunRequest, ThreadsRunResult } from './types';
import { makeWorkload } from './workload';
import type { BackendName } from '../../shared/protocol';

export interface ThreadsDeps {
  useBackend: (backend: BackendName, wasmThreads: number | null) => Promise<string | null>;
  threadsInUse: () => number | null;
  /** Which WASM build initialised (after `useBackend`). */
  build: () => Promise<string>;
}

export async function runThreads(request: ThreadsRunRequest, deps: ThreadsDeps): Promise<ThreadsRunResult> {
  const problem = await deps.useBackend('wasm', request.threads);
  const base = { threadsRequested: request.threads, threadsInUse: deps.threadsInUse() };
  if (problem) return { ...base, build: 'none', reason: problem, loop: null };
  await resetBenchDbs();
  const db = await openBenchDb();
  try {
    const w = await makeWorkload(request.model);
    const target: CheckpointTarget = { db, jobId: `threads-${request.threads}`, seq: { value: 0 } };
    const { result, session } = await runLoop(w, { backend: 'wasm', models: [request.model], checkpointReps: 0, memoryEpochs: 0 }, target, null);
    session.dispose();
    return { ...base, build: await deps.build(), reason: null, loop: result };
  } finally {
    db.close();
    await resetBenchDbs();
  }
}
