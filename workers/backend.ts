// Chooses and initialises the tfjs backend inside the worker: WebGPU when an adapter exists and a
// tiny training step works there, then webgl, wasm, cpu. Each skipped backend records why.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import wasmPlainUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import type { LatheDb } from '../shared/db';
import { BACKENDS, type BackendAttempt, type BackendInfo, type BackendName, type ProbeSummary } from '../shared/protocol';
import { probeOrder, probeWithCache, type ProbeSpec } from './backend-probe';
import { describeChoice, kernelPlan, registryHas } from './backend-kernels';
import type { ModelKind } from '../shared/config';

// tfjs 4.22's threaded WASM spawns pthread workers from a blob that re-imports the backend with
// importScripts; inside a bundled module worker that fails (ReferenceError in the pthread), so
// WASM runs single-threaded with SIMD. On 2 cores this measured no slower (FACTS.md).
tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);

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

async function describeWebGpuAdapter(): Promise<{ adapter: string | null; problem: string | null }> {
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
export async function selectBackend(forced: BackendName | null, kind: ModelKind = 'mlp'): Promise<BackendInfo> {
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
      return { backend: name, reason, attempts, adapter: name === 'webgpu' ? adapter : null, probe: null };
    }
  }
  throw new Error(`No TensorFlow.js backend works here: ${attempts.map((a) => a.reason).join('; ')}`);
}

/** Makes `name` the current backend if it initialises and passes the sanity step. */
export async function initBackend(name: BackendName): Promise<string | null> {
  return (await tryBackend(name)).problem;
}

async function environmentKey(): Promise<string> {
  const gpu = await describeWebGpuAdapter().catch(() => ({ adapter: null, problem: 'unknown' }));
  return [navigator.userAgent, navigator.hardwareConcurrency, gpu.adapter ?? gpu.problem].join(' | ');
}

function describeProbe(p: ProbeSummary): string {
  const figures = p.results
    .filter((r) => r.ok)
    .sort((a, b) => (b.samplesPerSec ?? 0) - (a.samplesPerSec ?? 0))
    .map((r) => `${r.backend} ${Math.round(r.samplesPerSec ?? 0).toLocaleString('en-US')}/s`)
    .join(', ');
  const when = p.cached ? 'measured earlier on this device' : `measured in a ${p.probeMs} ms probe`;
  return `fastest for ${p.sizeClass} models (${when}): ${figures}`;
}

/**
 * The backend for a job: a forced one (settings or `?backend=`) goes first with the fixed order
 * as fallback; otherwise the fastest by measurement. If no backend passes the probe, the fixed
 * order decides.
 */
export async function chooseBackend(forced: BackendName | null, spec: ProbeSpec, db: LatheDb): Promise<BackendInfo> {
  const kind = spec.config.model.kind;
  // A forced backend that cannot train this model at all: the automatic choice among those that can.
  const refused = forced ? kernelPlan(kind, [forced], registryHas).excluded[0] : undefined;
  if (forced && !refused) return selectBackend(forced, kind);
  if (refused) {
    const info = await chooseBackend(null, spec, db);
    return { ...info, reason: `${refused.reason}; using ${LABEL[info.backend]} (${LABEL[refused.backend]} was chosen in the settings): ${info.reason}` };
  }
  let summary: ProbeSummary;
  try {
    const gpu = await describeWebGpuAdapter().catch(() => ({ adapter: null, problem: 'unknown' }));
    const software = /swiftshader|fallback|software/i.test(gpu.adapter ?? '');
    summary = await probeWithCache(db, spec, await environmentKey(), initBackend, probeOrder(software));
  } catch (err) {
    const info = await selectBackend(null, kind);
    return { ...info, reason: `the probe failed (${err instanceof Error ? err.message : String(err)}); ${info.reason}` };
  }
  const problem = await initBackend(summary.chosen);
  if (problem) {
    const info = await selectBackend(null, kind);
    return { ...info, reason: `the probe's choice failed now (${problem}); ${info.reason}` };
  }
  const attempts: BackendAttempt[] = summary.results.map((r) => ({ backend: r.backend, ok: r.ok, reason: r.reason }));
  const adapter = summary.chosen === 'webgpu' ? (await describeWebGpuAdapter()).adapter : null;
  const kernels = describeChoice(kernelPlan(kind, BACKENDS, registryHas), summary.chosen);
  return { backend: summary.chosen, reason: kernels ? `${kernels}: ${describeProbe(summary)}` : describeProbe(summary), attempts, adapter, probe: summary };
}
