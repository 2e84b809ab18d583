// The automatic backend choice: measured, sanity-checked, cached per device and size class.
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { DEFAULT_CONFIG } from '../../shared/config';
import { openLatheDb } from '../../shared/db';
import type { BackendName } from '../../shared/protocol';
import { probeWithCache, runProbe, sizeClass, type ProbeSpec } from '../../workers/backend-probe';
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
    const summary = await runProbe(spec, cpuOnly);
    expect(summary.chosen).toBe('cpu');
    const cpu = summary.results.find((r) => r.backend === 'cpu')!;
    expect(cpu.ok).toBe(true);
    expect(cpu.samplesPerSec).toBeGreaterThan(0);
    expect(summary.results.filter((r) => !r.ok).map((r) => r.reason)).toEqual([
      'wasm: not available in Node',
      'webgpu: not available in Node',
      'webgl: not available in Node',
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
    const first = await probeWithCache(db, spec, 'chrome 156 | swiftshader', counting);
    const second = await probeWithCache(db, spec, 'chrome 156 | swiftshader', counting);
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

  it('fails loudly when no backend trains at all', async () => {
    await expect(runProbe(spec, async (b) => `${b}: broken`)).rejects.toThrow(/No backend passed the probe/);
  });
});
