// The automatic backend choice: measured, sanity-checked, cached per device and size class; GPU
// backends measured elsewhere in parallel count if they finish within the budget, and otherwise
// from the next job on.
import { beforeAll, describe, expect, it, vi } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { DEFAULT_CONFIG } from '../../shared/config';
import { openLatheDb } from '../../shared/db';
import type { BackendName, BackendProbeResult } from '../../shared/protocol';
import { probeWithCache, runProbe, sizeClass, type ProbeSpec, type RemoteProbe } from '../../workers/backend-probe';
import { probeOne } from '../../workers/probe-measure';
import { freshDbName } from './harness';

const spec: ProbeSpec = { config: DEFAULT_CONFIG, numFeatures: 4, numOutputs: 3 };

/** Only cpu exists in Node; the others report why, as a browser without them would. */
async function cpuOnly(b: BackendName): Promise<string | null> {
  if (b !== 'cpu') return `${b}: not available in Node`;
  await tf.setBackend('cpu');
  return null;
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('measured backend choice', () => {
  it('picks the fastest backend that trains sanely, and says why the others were not used', async () => {
    const { summary, late } = await runProbe(spec, cpuOnly);
    expect(late).toBeNull();
    expect(summary.chosen).toBe('cpu');
    const cpu = summary.results.find((r) => r.backend === 'cpu')!;
    expect(cpu.ok).toBe(true);
    expect(cpu.samplesPerSec).toBeGreaterThan(0);
    expect(summary.results.filter((r) => !r.ok).map((r) => r.reason)).toEqual([
      'wasm: not available in Node',
      'webgl: not available in Node',
      'webgpu: not available in Node',
    ]);
    expect(summary.probeMs).toBeLessThan(10_000);
  });

  it('reuses the cached choice on the same device and probes again when the browser or GPU changes', async () => {
    const db = await openLatheDb(freshDbName());
    let probes = 0;
    const counting = async (b: BackendName): Promise<string | null> => {
      if (b === 'cpu') probes++;
      return cpuOnly(b);
    };
    const first = (await probeWithCache(db, spec, 'chrome 156 | swiftshader', counting)).summary;
    const second = (await probeWithCache(db, spec, 'chrome 156 | swiftshader', counting)).summary;
    expect(first.cached).toBe(false);
    expect(second.cached).toBe(true);
    expect(probes).toBe(1);
    await probeWithCache(db, spec, 'chrome 157 | swiftshader', counting);
    expect(probes).toBe(2);
  });

  it('classifies model sizes, so a tiny and a large net are probed separately', () => {
    expect(sizeClass(spec)).toBe('small');
    const big = { ...spec, numFeatures: 784, config: { ...DEFAULT_CONFIG, model: { kind: 'mlp' as const, hidden: [{ units: 256, activation: 'relu' as const }, { units: 256, activation: 'relu' as const }] } }, numOutputs: 10 };
    expect(sizeClass(big)).toBe('medium');
  });

  it('a backend whose ordinary steps already take longer than the timed slice is rated from them, without more steps', async () => {
    const steps = vi.spyOn(tf.Optimizer.prototype, 'minimize');
    try {
      // A slice of 0 ms: the agreement steps always fill it.
      const r = await probeOne('cpu', spec, cpuOnly, 0);
      expect(r.ok).toBe(true);
      expect(r.samplesPerSec).toBeGreaterThan(0);
      expect(steps).toHaveBeenCalledTimes(3);
    } finally {
      steps.mockRestore();
    }
  });

  it('fails loudly when no backend trains at all', async () => {
    await expect(runProbe(spec, async (b) => `${b}: broken`)).rejects.toThrow(/No backend passed the probe/);
  });

  /** A remote GPU probe that answers after `ms` with `rate` samples/s and cpu's loss (so it agrees). */
  function fakeRemote(plan: Partial<Record<BackendName, { ms: number; rate: number }>>, cpuLoss: () => number): RemoteProbe {
    return (backend) =>
      new Promise<BackendProbeResult>((resolve) => {
        const p = plan[backend];
        if (!p) return resolve({ backend, ok: false, samplesPerSec: null, warmupMs: null, reason: `${backend}: no adapter` });
        setTimeout(() => resolve({ backend, ok: true, samplesPerSec: p.rate, warmupMs: p.ms, reason: null, finalLoss: cpuLoss() }), p.ms);
      });
  }

  async function cpuLoss(): Promise<number> {
    const { summary } = await runProbe(spec, cpuOnly, ['cpu']);
    return summary.results[0]!.finalLoss!;
  }

  it('a GPU backend measured in parallel that finishes within the budget is chosen when fastest', async () => {
    const loss = await cpuLoss();
    const remote = fakeRemote({ webgl: { ms: 50, rate: 1e9 } }, () => loss);
    const { summary, late } = await runProbe(spec, cpuOnly, undefined, { remote, budgetMs: 5000 });
    expect(summary.chosen).toBe('webgl');
    expect(summary.pending).toEqual([]);
    expect(late).toBeNull();
    expect(summary.results.find((r) => r.backend === 'webgpu')?.reason).toBe('webgpu: no adapter');
  });

  it('a GPU backend still starting at the deadline does not delay the choice, and counts once measured', async () => {
    const loss = await cpuLoss();
    // WebGPU answers only once released: the choice must come without it, however slow this machine.
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const fast = fakeRemote({ webgpu: { ms: 0, rate: 1e9 } }, () => loss);
    const remote: RemoteProbe = (backend, s) => (backend === 'webgpu' ? gate.then(() => fast(backend, s)) : fast(backend, s));
    const db = await openLatheDb(freshDbName());
    const run = await probeWithCache(db, spec, 'env', cpuOnly, undefined, { remote, budgetMs: 200 });
    expect(run.summary.chosen).toBe('cpu');
    expect(run.summary.pending).toEqual(['webgpu']);
    expect(run.summary.results.find((r) => r.backend === 'webgpu')?.reason).toMatch(/measured in the background for the next job/);
    // A job starting meanwhile reuses the partial ranking instead of starting more probe workers.
    const meanwhile = await probeWithCache(db, spec, 'env', cpuOnly, undefined, { remote, budgetMs: 200 });
    expect(meanwhile.summary).toMatchObject({ cached: true, chosen: 'cpu', pending: ['webgpu'] });
    release();
    const complete = await run.late!;
    expect(complete.chosen).toBe('webgpu');
    expect(complete.pending).toEqual([]);
    // The next job takes the complete ranking from the cache.
    const next = await probeWithCache(db, spec, 'env', cpuOnly, undefined, { remote, budgetMs: 200 });
    expect(next.summary).toMatchObject({ cached: true, chosen: 'webgpu' });
  });

  it('with only software GPUs the choice does not wait for them; they are measured in the background', async () => {
    const loss = await cpuLoss();
    const remote = fakeRemote({ webgl: { ms: 300, rate: 10 }, webgpu: { ms: 300, rate: 5 } }, () => loss);
    // Measured within the 5 s budget they would be done (300 ms): still pending proves no wait.
    const { summary, late } = await runProbe(spec, cpuOnly, undefined, { remote, softwareGpu: true, budgetMs: 5000 });
    expect(summary).toMatchObject({ chosen: 'cpu', pending: ['webgl', 'webgpu'] });
    const complete = await late!;
    expect(complete.results.filter((r) => r.ok).map((r) => r.backend).sort()).toEqual(['cpu', 'webgl', 'webgpu']);
    expect(complete.chosen).toBe('cpu');
  });

  it('a CNN skips backends without its kernels and waits for a software GPU before choosing', async () => {
    const cnn: ProbeSpec = {
      config: {
        ...DEFAULT_CONFIG,
        batchSize: 8,
        model: { kind: 'cnn', imageSize: 8, blocks: [{ filters: 2, kernelSize: 3 }], dense: 0, dropout: 0, augment: { flip: false, shift: 0, brightness: 0 } },
      },
      numFeatures: 64,
      numOutputs: 2,
      inputShape: [8, 8, 1],
    };
    const reference = (await runProbe(cnn, cpuOnly, ['cpu'])).summary.results[0]!.finalLoss!;
    const remote = fakeRemote({ webgl: { ms: 300, rate: 1e9 } }, () => reference);
    const noWasmConv = (kernel: string, b: BackendName): boolean => !(b === 'wasm' && kernel === 'Conv2DBackpropFilter');
    const { summary, late } = await runProbe(cnn, cpuOnly, undefined, { remote, softwareGpu: true }, noWasmConv);
    expect(summary.chosen).toBe('webgl');
    expect(summary.pending).toEqual([]);
    expect(late).toBeNull();
    expect(summary.results.find((r) => r.backend === 'wasm')?.reason).toMatch(/WASM cannot train convolutions/);
  });

  it('software GPUs are measured only once no job is training, so they do not take its CPU', async () => {
    const loss = await cpuLoss();
    const asked: BackendName[] = [];
    const inner = fakeRemote({ webgl: { ms: 10, rate: 10 }, webgpu: { ms: 10, rate: 5 } }, () => loss);
    const remote: RemoteProbe = (b, s) => {
      asked.push(b);
      return inner(b, s);
    };
    let release: () => void = () => undefined;
    const idle = new Promise<void>((resolve) => (release = resolve));
    const { summary, late } = await runProbe(spec, cpuOnly, undefined, { remote, softwareGpu: true, whenIdle: () => idle });
    expect(summary.pending).toEqual(['webgl', 'webgpu']);
    expect(summary.results.find((r) => r.backend === 'webgpu')?.reason).toMatch(/once no job is training/);
    await new Promise((r) => setTimeout(r, 100));
    expect(asked).toEqual([]);
    release();
    expect((await late!).pending).toEqual([]);
    expect(asked.sort()).toEqual(['webgl', 'webgpu']);
  });

  it('a GPU backend whose loss disagrees with cpu is not chosen, however fast', async () => {
    const remote = fakeRemote({ webgl: { ms: 10, rate: 1e9 } }, () => 123);
    const { summary } = await runProbe(spec, cpuOnly, undefined, { remote, budgetMs: 5000 });
    expect(summary.chosen).toBe('cpu');
    expect(summary.results.find((r) => r.backend === 'webgl')?.reason).toMatch(/disagrees with cpu/);
  });
});
