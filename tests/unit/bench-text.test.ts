// The bench's text section: its worker part run for real at quick size in Node (cpu backend,
// fake-indexeddb), and its summary rows on hand-made results. No timing thresholds.
// `LATHE_BENCH_TEXT=full` (or `quick`) `npx vitest run tests/unit/bench-text.test.ts` also runs
// that size on cpu and prints its figures (a measurement, not a test; skipped otherwise).
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { TEXT_FULL, TEXT_QUICK, TEXT_SCHEMA } from '../../bench/text-section.mjs';
import { summarize } from '../../bench/summary.mjs';
import { validateResult } from '../../bench/schema.mjs';
import type { BackendName } from '../../shared/protocol';
import { runText } from '../../workers/bench/text-runs';
import type { TextRunResult, TextSpec } from '../../workers/bench/text-types';

const TEXT = readFileSync(new URL('../../public/samples/moby-dick-ch1-30.txt', import.meta.url), 'utf8');
const deps = {
  useBackend: async (b: BackendName) => ((await tf.setBackend(b)) ? null : `no ${b} here`),
  sampleText: () => Promise.resolve(TEXT),
};

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const section = (backends: unknown[]) => ({ config: {}, backends });
const rowsOf = (backends: unknown[]) =>
  summarize({ backends: [], config: { models: [] }, machine: { wasm: { threads: 1, sharedArrayBuffer: true, multithread: false, simd: true }, cores: 2, pageCrossOriginIsolated: true }, ui: {}, text: section(backends) }).filter((r) => r.group === 'text');

describe('bench text section', () => {
  it('on cpu it trains the preset in the app loop and with bare fit, generates, and trains while generating', async () => {
    const r = await runText({ backend: 'cpu', text: TEXT_QUICK.text }, deps);
    expect(validateResult(section([{ ...r, wallMs: 1 }]), TEXT_SCHEMA)).toEqual([]);
    expect(r.train).toMatchObject({ supported: true, reason: null, sequenceLength: 16 });
    expect(r.train.charsPerSec).toBeGreaterThan(0);
    expect(r.train.fitCharsPerSec).toBeGreaterThan(0);
    expect(r.generate.chars).toBe(TEXT_QUICK.text.generateChars);
    expect(r.whileGenerating.windows?.map((w) => w.generating)).toEqual([false, true]);
    expect(r.whileGenerating.windows?.every((w) => w.steps > 0)).toBe(true);
    expect(r.whileGenerating.windows?.[1]?.generated).toBeGreaterThan(0);
    expect(r.whileGenerating.ratio).toBeGreaterThan(0);
    // Everything the run made is gone again.
    expect(tf.memory().numTensors).toBeLessThan(50);
  }, 60_000);

  it('WASM is recorded as unable to train recurrent layers, with the app\'s reason', async () => {
    await import('@tensorflow/tfjs-backend-wasm');
    const r = await runText({ backend: 'wasm', text: TEXT_QUICK.text }, deps);
    expect(r.available).toBe(true);
    expect(r.train.supported).toBe(false);
    expect(r.train.reason).toBe('WASM cannot train recurrent layers (it has no UnsortedSegmentSum kernel)');
    expect(rowsOf([{ ...r, wallMs: 1 }]).map((row) => row.figure)).toEqual([
      'recurrent preset wasm: not measured', 'generation wasm: not measured', 'training wasm while generating: not measured',
    ]);
  });

  it('gives chars/s against bare fit, and training while generating against training alone with the 0.8 target', () => {
    const cpu: Partial<TextRunResult> & { wallMs: number } = {
      backend: 'cpu', available: true, reason: null, wallMs: 10,
      train: { supported: true, reason: null, params: 1000, sequenceLength: 40, loop: { afterFirstEpoch: true, steady: { steps: 10, fromStep: 15 } } as never, fit: {} as never, charsPerSec: 900, fitCharsPerSec: 1000, loopOverFit: 0.9 },
      generate: { supported: true, reason: null, chars: 200, ms: 2000, charsPerSec: 100 },
      whileGenerating: { supported: true, reason: null, windows: [], aloneCharsPerSec: 1000, generatingCharsPerSec: 850, ratio: 0.85, generateCharsPerSec: 40 },
    };
    expect(validateResult(section([cpu]), TEXT_SCHEMA)).toEqual([]);
    const rows = rowsOf([cpu]);
    expect(rows.find((r) => r.figure === 'recurrent preset cpu: app loop vs bare fit')).toMatchObject({ value: 900, baseline: 1000, ratio: 0.9, unit: 'chars/s', met: false });
    expect(rows.find((r) => r.figure === 'generation cpu: paused model')).toMatchObject({ value: 100, unit: 'chars/s' });
    expect(rows.find((r) => r.figure === 'training cpu while generating')).toMatchObject({ value: 850, baseline: 1000, ratio: 0.85, target: '≥ 0.8', met: true });
  });

  // `quick` measures the quick model with longer windows, so the ratio is more than a few steps' noise.
  const SIZES: Record<string, TextSpec> = { full: TEXT_FULL.text, quick: { ...TEXT_QUICK.text, rounds: 3, windowSteps: 20, generateChars: 200 } };
  const size = process.env.LATHE_BENCH_TEXT ?? '';
  it.runIf(size in SIZES)(`${size} size on cpu (prints its figures)`, async () => {
    const r = await runText({ backend: 'cpu', text: SIZES[size]! }, deps);
    const { loop: _l, fit: _f, ...train } = r.train;
    console.log(JSON.stringify({ train, generate: r.generate, whileGenerating: r.whileGenerating }, null, 2));
    expect(r.whileGenerating.ratio).not.toBeNull();
  }, 600_000);
});
