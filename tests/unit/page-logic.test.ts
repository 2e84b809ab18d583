// Small pure pieces of the page: the XOR sample, Iris parsing, chart columns, storage and time wording.
import { imageAssetFiles } from '../../scripts/image-assets.mjs';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { validateDataset } from '../../shared/dataset';
import { CLASSIFICATION_SERIES, toChartData } from '../../src/lib/chart-data';
import { formatDuration } from '../../src/lib/format';
import { defaultJobName, mergeJobs } from '../../src/lib/job-records';
import { backendFromUrl, sanitizeSettings, wasmThreadChoices } from '../../src/lib/settings-rules';
import { DEFAULT_CONFIG, validateConfig } from '../../shared/config';
import { DEFAULT_SETTINGS } from '../../shared/settings';
import type { JobRecord } from '../../shared/jobs';
import { makeXorDataset, SAMPLES } from '../../shared/samples';
import { formatBytes, formatStorage } from '../../src/lib/storage';

describe('built-in samples', () => {
  it('XOR has 64 noisy points around each corner, labelled by the XOR of the corner', () => {
    const d = makeXorDataset();
    expect(validateDataset(d)).toEqual([]);
    expect(d.numSamples).toBe(256);
    expect(d.featureNames).toEqual(['x', 'y']);
    expect(d.classNames).toEqual(['0', '1']);
    for (let i = 0; i < d.numSamples; i++) {
      const cx = Math.round(d.features[2 * i]!);
      const cy = Math.round(d.features[2 * i + 1]!);
      expect(d.targets[i]).toBe(cx ^ cy);
    }
  });

  it('XOR is the same on every load, so resumed jobs see the same data', () => {
    expect(makeXorDataset().features).toEqual(makeXorDataset().features);
  });

  it('every sample names a config that is valid, and a file that exists', () => {
    for (const s of SAMPLES) {
      expect(validateConfig(s.recommended), s.id).toEqual([]);
      // Image samples are made at build time from npm packages (scripts/image-assets.mjs).
      const bytes = s.kind === 'images' ? imageAssetFiles().get(`samples/${s.file}`)! : s.file ? readFileSync(new URL(`../../public/samples/${s.file}`, import.meta.url)) : null;
      if (s.file) expect(bytes!.byteLength, s.id).toBeGreaterThan(100);
    }
  });
});

describe('chart columns', () => {
  it('a classification chart keeps the same four series from before the first point to the end', () => {
    const empty = toChartData([], CLASSIFICATION_SERIES);
    expect(empty.series.map((s) => s.key)).toEqual(['loss', 'val_loss', 'acc', 'val_acc']);
    expect(empty.columns).toEqual([[], [], [], []]);
    const first = toChartData([{ kind: 'step', epoch: 0, step: 1, loss: 0.7, metrics: { acc: 0.5 }, timeMs: 1 }], CLASSIFICATION_SERIES);
    expect(first.series.map((s) => s.key)).toEqual(['loss', 'val_loss', 'acc', 'val_acc']);
    expect(first.columns).toEqual([[0.7], [null], [0.5], [null]]);
  });

  it('a regression chart shows R² beside the loss; errors in the target units stay numbers', () => {
    const metrics = { mae: 310, rmse: 400, r2: 0.8, val_mae: 330, val_rmse: 420, val_r2: 0.78 };
    const data = toChartData([{ kind: 'epoch', epoch: 0, step: 5, loss: 2, metrics, timeMs: 1 }], CLASSIFICATION_SERIES);
    expect(data.series.map((s) => s.key)).toEqual(['loss', 'r2', 'val_r2']);
  });

  it('puts losses and accuracies in step order and lets epoch points fill validation values', () => {
    const data = toChartData([
      { kind: 'step', epoch: 0, step: 10, loss: 0.9, metrics: { acc: 0.5 }, timeMs: 1 },
      { kind: 'step', epoch: 0, step: 20, loss: 0.7, metrics: { acc: 0.6 }, timeMs: 2 },
      { kind: 'epoch', epoch: 0, step: 20, loss: 0.75, metrics: { acc: 0.62, val_loss: 0.8, val_acc: 0.55 }, timeMs: 3 },
    ]);
    expect(data.series).toEqual([
      { key: 'loss', scale: 'loss' },
      { key: 'val_loss', scale: 'loss' },
      { key: 'acc', scale: 'metric' },
      { key: 'val_acc', scale: 'metric' },
    ]);
    expect(data.x).toEqual([10, 20]);
    expect(data.columns).toEqual([
      [0.9, 0.75],
      [null, 0.8],
      [0.5, 0.62],
      [null, 0.55],
    ]);
  });
});

describe('wording', () => {
  it('storage reads like "1.2 MB used of 10 GB (persistent)"', () => {
    expect(formatStorage({ usage: 1_234_567, quota: 10_000_000_000, persistent: true })).toBe(
      '1.2 MB used of 10 GB (persistent)',
    );
    expect(formatBytes(512)).toBe('512 B');
  });

  it('durations read as seconds, minutes or hours', () => {
    expect(formatDuration(12_400)).toBe('12 s');
    expect(formatDuration(65_000)).toBe('1 min 05 s');
    expect(formatDuration(3_900_000)).toBe('1 h 05 min');
    expect(formatDuration(null)).toBe('—');
  });
});

describe('settings', () => {
  it('?backend= picks a known backend and ignores anything else', () => {
    expect(backendFromUrl('?backend=wasm')).toBe('wasm');
    expect(backendFromUrl('?backend=quantum')).toBeNull();
    expect(backendFromUrl('')).toBeNull();
  });

  it('a damaged settings record falls back to defaults field by field', () => {
    expect(sanitizeSettings({ backend: 'nope', autoResume: true, checkpointIntervalSec: -3 })).toEqual({
      ...DEFAULT_SETTINGS,
      autoResume: true,
    });
    expect(sanitizeSettings(null)).toEqual(DEFAULT_SETTINGS);
  });

  it('WASM threads default to every core, keep a whole count from 1 to 8, and drop anything else', () => {
    expect(DEFAULT_SETTINGS.wasmThreads).toBeNull();
    expect(sanitizeSettings({ wasmThreads: 2 }).wasmThreads).toBe(2);
    for (const bad of [0, 9, 2.5, '4', -1]) expect(sanitizeSettings({ wasmThreads: bad }).wasmThreads).toBeNull();
    expect(wasmThreadChoices(2)).toEqual([1, 2]);
    expect(wasmThreadChoices(16)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(wasmThreadChoices(0)).toEqual([1]);
  });
});

describe('job records', () => {
  const job = (id: string, createdAt: number, name = id) => ({ id, createdAt, name }) as JobRecord;

  it('a record that arrived live while the page loaded wins over the stored copy', () => {
    const merged = mergeJobs([job('a', 1, 'stored'), job('b', 2)], [job('c', 3), job('a', 1, 'live')]);
    expect(merged.map((j) => `${j.id}:${j.name}`)).toEqual(['a:live', 'b:b', 'c:c']);
  });

  it('default job names describe the model', () => {
    expect(defaultJobName('XOR', DEFAULT_CONFIG)).toBe('XOR · 16×16 relu · adam');
  });
});
