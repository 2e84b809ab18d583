// Chooses and initialises the tfjs backend inside the worker: WebGPU when an adapter exists and a
// tiny training step works there, then webgl, wasm, cpu. Each skipped backend records why. WASM
// runs threaded (workers/wasm-threads.ts) with the thread count the settings ask for.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import wasmPlainUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import type { LatheDb } from '../shared/db';
import { BACKENDS, type BackendAttempt, type BackendInfo, type BackendName, type ProbeSummary } from '../shared/protocol';
import { probeOrder, probeWithCache, sizeClass, type ProbeSpec, type RemoteProbe } from './backend-probe';
import { remoteProbe } from './probe-remote';
import { whenTrainerIdle } from './trainer-idle';
import { describeChoice, kernelPlan, registryHas } from './backend-kernels';
import type { ModelKind } from '../shared/config';

import { configureWasmThreads, wantedWasmThreads, wasmThreadsInUse } from './wasm-threads';
// For its side effect: transposed matrix products on WASM go through XNNPACK and its threads.
import './wasm-matmul';

setWasmPaths({
  'tfjs-backend-wasm.wasm': wasmPlainUrl,
  'tfjs-backend-wasm-simd.wasm': wasmSimdUrl,
  'tfjs-backend-wasm-threaded-simd.wasm': wasmThreadedUrl,
});

/** How long one backend may take to initialise and pass the sanity step before we move on. */
const BACKEND_INIT_TIMEOUT_MS = 60_000;

interface GpuAdapterInfoLike {
  vendor?: string;
  architecture?: string;
  isFallbackAdapter?: boolean;
}

let webGpuAdapter: Promise<{ adapter: string | null; problem: string | null }> | null = null;

/** The WebGPU adapter, asked for once per worker (requestAdapter takes a while on SwiftShader). */
function describeWebGpuAdapter(): Promise<{ adapter: string | null; problem: string | null }> {
  webGpuAdapter ??= requestWebGpuAdapter().catch((err: unknown) => ({ adapter: null, problem: `WebGPU: ${err instanceof Error ? err.message : String(err)}` }));
  return webGpuAdapter;
}

/** WebGL's renderer string (unmasked where allowed), or null without WebGL here. */
export function describeWebGlRenderer(): string | null {
  try {
    const gl = new OffscreenCanvas(1, 1).getContext('webgl2');
    if (!gl) return null;
    const ext = gl.getExtension('WEBGL_debug_renderer_info');
    return String(gl.getParameter(ext ? ext.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
  } catch {
    return null;
  }
}

const SOFTWARE_GPU = /swiftshader|llvmpipe|softpipe|software|fallback/i;

/** Whether every GPU this worker could train on is a software rasterizer (or there is none). */
async function onlySoftwareGpus(): Promise<boolean> {
  const gpu = await describeWebGpuAdapter();
  const webgl = describeWebGlRenderer();
  return (gpu.adapter === null || SOFTWARE_GPU.test(gpu.adapter)) && (webgl === null || SOFTWARE_GPU.test(webgl));
}

async function requestWebGpuAdapter(): Promise<{ adapter: string | null; problem: string | null }> {
  const gpu = (navigator as Navigator & { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
  if (!gpu) return { adapter: null, problem: 'WebGPU: not supported by this browser (no navigator.gpu)' };
  const adapter = (await gpu.requestAdapter()) as { info?: GpuAdapterInfoLike; isFallbackAdapter?: boolean } | null;
  if (!adapter) return { adapter: null, problem: 'WebGPU: no adapter' };
  const info = adapter.info;
  const fallback = adapter.isFallbackAdapter || info?.isFallbackAdapter ? 'fallback' : '';
  const name = [info?.vendor, info?.architecture, fallback].filter(Boolean).join(' ') || 'unknown adapter';
  return { adapter: name, problem: null };
}

/** One optimizer step on a 2-layer net, checked against what the maths says it must produce. */
async function sanityStep(): Promise<string | null> {
  const w = tf.variable(tf.tensor2d([[0.5], [-0.25]]));
  const x = tf.tensor2d([
    [1, 2],
    [3, 4],
  ]);
  const y = tf.tensor2d([[1], [0]]);
  const optimizer = tf.train.sgd(0.1);
  try {
    const before = optimizer.minimize(() => tf.losses.meanSquaredError(y, x.matMul(w)), true);
    const lossBefore = (await before!.data())[0]!;
    before!.dispose();
    const after = tf.tidy(() => tf.losses.meanSquaredError(y, x.matMul(w)));
    const lossAfter = (await after.data())[0]!;
    after.dispose();
    // Initial prediction is [0, 0.5]: MSE = (1 + 0.25) / 2 = 0.625.
    if (!Number.isFinite(lossBefore) || Math.abs(lossBefore - 0.625) > 1e-4)
      return `sanity step computed loss ${lossBefore}, expected 0.625`;
    if (!(lossAfter < lossBefore)) return `sanity step did not reduce the loss (${lossBefore} → ${lossAfter})`;
    return null;
  } finally {
    tf.dispose([w, x, y]);
    optimizer.dispose();
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms / 1000} s`)), ms);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

const LABEL: Record<BackendName, string> = { webgpu: 'WebGPU', webgl: 'WebGL', wasm: 'WASM', cpu: 'CPU' };

async function tryBackend(name: BackendName): Promise<{ problem: string | null; adapter: string | null }> {
  let adapter: string | null = null;
  if (name === 'webgpu') {
    const probe = await describeWebGpuAdapter();
    if (probe.problem) return probe;
    adapter = probe.adapter;
  }
  try {
    const ok = await withTimeout(tf.setBackend(name), BACKEND_INIT_TIMEOUT_MS, `${LABEL[name]} initialisation`);
    if (!ok) return { problem: `${LABEL[name]}: failed to initialise`, adapter };
    await tf.ready();
    const problem = await withTimeout(sanityStep(), BACKEND_INIT_TIMEOUT_MS, `${LABEL[name]} sanity step`);
    return { problem: problem ? `${LABEL[name]}: ${problem}` : null, adapter };
  } catch (err) {
    return { problem: `${LABEL[name]}: ${err instanceof Error ? err.message : String(err)}`, adapter };
  }
}

/**
 * Tries the forced backend alone when one is given (falling back only if it cannot run at all),
 * otherwise the automatic order.
 */
export async function selectBackend(forced: BackendName | null, wasmThreads: number = wantedWasmThreads(null), kind: ModelKind = 'mlp'): Promise<BackendInfo> {
  configureWasmThreads(wasmThreads);
  const plan = kernelPlan(kind, forced ? [forced, ...BACKENDS.filter((b) => b !== forced)] : [...BACKENDS], registryHas);
  const attempts: BackendAttempt[] = plan.excluded.map((e) => ({ backend: e.backend, ok: false, reason: e.reason }));
  if (forced && plan.excluded.some((e) => e.backend === forced)) forced = null;
  for (const name of plan.allowed) {
    const { problem, adapter } = await tryBackend(name);
    attempts.push({ backend: name, ok: problem === null, reason: problem });
    if (problem === null) {
      const failures = attempts.filter((a) => !a.ok).map((a) => a.reason);
      const base = forced === name ? 'chosen in settings' : forced ? `${LABEL[forced]} was chosen but` : 'preferred';
      const reason = failures.length === 0 ? base : forced ? `${base} ${failures.join('; ')}` : failures.join('; ');
      return { backend: name, reason, attempts, adapter: name === 'webgpu' ? adapter : null, probe: null, threads: threadsOf(name) };
    }
  }
  throw new Error(`No TensorFlow.js backend works here: ${attempts.map((a) => a.reason).join('; ')}`);
}

/**
 * WASM threads for a job: the setting when the user chose a count; otherwise one per core, except
 * for small models (under 10,000 parameters), whose tiny matrix products cost less than waking a
 * second thread for each of them: the Iris-sized bench model trained 3.3× slower on 2 threads
 * than on 1 here (1,600 against 5,200 samples/s).
 */
export function wasmThreadsFor(spec: ProbeSpec, setting: number | null): number {
  if (setting !== null) return wantedWasmThreads(setting);
  return sizeClass(spec) === 'small' ? 1 : wantedWasmThreads(null);
}

/** Threads `name` computes with, as BackendInfo reports them: WASM's pool, else null. */
function threadsOf(name: BackendName): number | null {
  return name === 'wasm' ? wasmThreadsInUse() : null;
}

/** Makes `name` the current backend if it initialises and passes the sanity step. */
export async function initBackend(name: BackendName): Promise<string | null> {
  return (await tryBackend(name)).problem;
}

/** What the cached probe depends on: browser, cores, GPU, and the WASM threads it measured with. */
async function environmentKey(wasmThreads: number): Promise<string> {
  const gpu = await describeWebGpuAdapter().catch(() => ({ adapter: null, problem: 'unknown' }));
  return [navigator.userAgent, navigator.hardwareConcurrency, gpu.adapter ?? gpu.problem, `wasm×${wasmThreads}`].join(' | ');
}

function describeProbe(p: ProbeSummary): string {
  const figures = p.results
    .filter((r) => r.ok)
    .sort((a, b) => (b.samplesPerSec ?? 0) - (a.samplesPerSec ?? 0))
    .map((r) => `${r.backend} ${Math.round(r.samplesPerSec ?? 0).toLocaleString('en-US')}/s`)
    .join(', ');
  const when = p.cached ? 'measured earlier on this device' : `measured in a ${p.probeMs} ms probe`;
  const pending = p.pending ?? [];
  const software = p.results.some((r) => r.pending && /software GPU/.test(r.reason ?? ''));
  const later =
    pending.length === 0
      ? ''
      : software
        ? `; ${pending.join(', ')} (software GPUs) measured in the background for the next job, once no job is training`
        : `; ${pending.join(', ')} still starting, measured in the background for the next job`;
  return `fastest for ${p.sizeClass} models (${when}): ${figures}${later}`;
}

/** GPU backends are probed in workers of their own when this is a worker that can start one. */
function remoteIfPossible(): RemoteProbe | undefined {
  const here = (globalThis as { location?: { href?: string } }).location?.href;
  return typeof Worker === 'function' && here ? remoteProbe(here) : undefined;
}

/**
 * The backend for a job: a forced one (settings or `?backend=`) goes first with the fixed order
 * as fallback; otherwise the fastest by measurement. If no backend passes the probe, the fixed
 * order decides. When backends were still being measured at the choice, `onComplete` later gets
 * the same choice with the complete ranking; its `probe.chosen` may name a faster backend, which
 * the next job should use.
 */
export async function chooseBackend(
  forced: BackendName | null,
  spec: ProbeSpec,
  db: LatheDb,
  wasmThreads: number | null = null,
  onComplete?: (info: BackendInfo) => void,
): Promise<BackendInfo> {
  const threads = wasmThreadsFor(spec, wasmThreads);
  const kind = spec.config.model.kind;
  // A forced backend that cannot train this model at all: the automatic choice among those that can.
  const refused = forced ? kernelPlan(kind, [forced], registryHas).excluded[0] : undefined;
  if (forced && !refused) return selectBackend(forced, threads, kind);
  if (refused) {
    const info = await chooseBackend(null, spec, db, wasmThreads, onComplete);
    return { ...info, reason: `${refused.reason}; using ${LABEL[info.backend]} (${LABEL[refused.backend]} was chosen in the settings): ${info.reason}` };
  }
  configureWasmThreads(threads);
  let summary: ProbeSummary;
  let late: Promise<ProbeSummary> | null = null;
  try {
    const run = await probeWithCache(db, spec, await environmentKey(threads), initBackend, probeOrder(), {
      remote: remoteIfPossible(),
      softwareGpu: await onlySoftwareGpus(),
      whenIdle: whenTrainerIdle,
    });
    summary = run.summary;
    late = run.late;
  } catch (err) {
    const info = await selectBackend(null, threads, kind);
    return { ...info, reason: `the probe failed (${err instanceof Error ? err.message : String(err)}); ${info.reason}` };
  }
  const problem = await initBackend(summary.chosen);
  if (problem) {
    const info = await selectBackend(null, threads, kind);
    return { ...info, reason: `the probe's choice failed now (${problem}); ${info.reason}` };
  }
  const attempts = (p: ProbeSummary): BackendAttempt[] => p.results.map((r) => ({ backend: r.backend, ok: r.ok, reason: r.reason }));
  const adapter = summary.chosen === 'webgpu' ? (await describeWebGpuAdapter()).adapter : null;
  const kernels = describeChoice(kernelPlan(kind, BACKENDS, registryHas), summary.chosen);
  const withKernels = (reason: string): string => (kernels ? `${kernels}: ${reason}` : reason);
  const info: BackendInfo = { backend: summary.chosen, reason: withKernels(describeProbe(summary)), attempts: attempts(summary), adapter, probe: summary, threads: threadsOf(summary.chosen) };
  // The complete ranking is cached when it arrives; a failure there only means a new probe later.
  late
    ?.then((complete) => {
      const next = complete.chosen === info.backend ? '' : `; ${complete.chosen} measured faster, used from the next job on`;
      onComplete?.({ ...info, reason: withKernels(`${describeProbe(complete)}${next}`), attempts: attempts(complete), probe: complete });
    })
    .catch((err: unknown) => console.warn('Lathe: the background backend probe failed', err));
  return info;
}
