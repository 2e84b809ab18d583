// Which backends can train a model at all: each model kind needs some kernels (a CNN's gradient
// needs Conv2DBackpropFilter, which tfjs 4.22's WASM backend lacks), and the backend choice skips
// the backends that miss one, saying so in words. Pure logic plus tfjs's kernel registry.
import * as tf from '@tensorflow/tfjs';
import type { ModelKind } from '../shared/config';
import type { BackendName } from '../shared/protocol';

/** Kernels a training step needs beyond the Dense ones every backend has. */
export const REQUIRED_KERNELS: Record<ModelKind, readonly string[]> = {
  mlp: [],
  cnn: ['Conv2D', 'Conv2DBackpropFilter', 'Conv2DBackpropInput', 'MaxPool', 'MaxPoolGrad'],
  // The head is Dense; the frozen base only runs forward (convolutions every backend has).
  transfer: ['Conv2D', 'DepthwiseConv2dNative'],
  // The embedding's gradient is an UnsortedSegmentSum, which tfjs 4.22's WASM backend lacks.
  rnn: ['UnsortedSegmentSum'],
  // The same embedding gradient, plus attention (batched matmuls, softmax, splitting the heads),
  // layer norm (Rsqrt) and the dropout mask (Floor). tests/unit/text-transformer.test.ts profiles
  // a real training step and checks that every kernel a backend lacks is named here.
  transformer: ['UnsortedSegmentSum', 'BatchMatMul', 'Softmax', 'SplitV', 'Transpose', 'Rsqrt', 'Floor'],
};

const LABEL: Record<BackendName, string> = { webgpu: 'WebGPU', webgl: 'WebGL', wasm: 'WASM', cpu: 'CPU' };
const WHAT: Record<ModelKind, string> = { mlp: 'this model', cnn: 'convolutions', transfer: 'the transfer base', rnn: 'recurrent layers', transformer: 'the transformer' };

export interface KernelExclusion {
  backend: BackendName;
  missing: string[];
  /** e.g. "WASM cannot train convolutions (it has no Conv2DBackpropFilter kernel)". */
  reason: string;
}

export interface KernelPlan {
  /** The given order, without the backends that miss a kernel. */
  allowed: BackendName[];
  excluded: KernelExclusion[];
}

/** Splits `order` into the backends that have every kernel `kind` needs and those that do not. */
export function kernelPlan(kind: ModelKind, order: readonly BackendName[], has: (kernel: string, backend: BackendName) => boolean): KernelPlan {
  const allowed: BackendName[] = [];
  const excluded: KernelExclusion[] = [];
  for (const backend of order) {
    const missing = REQUIRED_KERNELS[kind].filter((k) => !has(k, backend));
    if (missing.length === 0) allowed.push(backend);
    else
      excluded.push({
        backend,
        missing,
        reason: `${LABEL[backend]} cannot train ${WHAT[kind]} (it has no ${missing.join(', ')} kernel${missing.length > 1 ? 's' : ''})`,
      });
  }
  return { allowed, excluded };
}

/** "WASM cannot train convolutions (…); using WebGL", for the backend in use. */
export function describeChoice(plan: KernelPlan, chosen: BackendName): string | null {
  if (plan.excluded.length === 0) return null;
  return `${plan.excluded.map((e) => e.reason).join('; ')}; using ${LABEL[chosen]}`;
}

/** tfjs's registry: kernels are registered when a backend's module is imported, before it initialises. */
export function registryHas(kernel: string, backend: BackendName): boolean {
  return tf.getKernel(kernel, backend) !== undefined;
}
