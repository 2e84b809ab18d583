// Turns a job's metric history into uPlot's aligned columns: one x (step) and one column per
// series, losses on one scale and other metrics (accuracy) on a second.
import type { MetricPoint } from '../../shared/jobs';

export interface ChartSeries {
  key: string;
  scale: 'loss' | 'metric';
}

export interface ChartData {
  series: ChartSeries[];
  x: number[];
  columns: (number | null)[][];
}

const ORDER = ['loss', 'val_loss', 'acc', 'val_acc', 'r2', 'val_r2'];
/** Errors in the target's own units (grams, dollars) would dwarf the 0..1 metrics: shown as numbers, not curves.
 * Bits per character is the loss divided by ln 2: a number beside the loss curve, not a second curve. */
const NOT_CHARTED = new Set(['mae', 'val_mae', 'rmse', 'val_rmse', 'bpc', 'val_bpc']);

function rank(key: string): number {
  const i = ORDER.indexOf(key);
  return i < 0 ? ORDER.length : i;
}

/** What a classification job reports over a run. */
export const CLASSIFICATION_SERIES: readonly ChartSeries[] = [
  { key: 'loss', scale: 'loss' },
  { key: 'val_loss', scale: 'loss' },
  { key: 'acc', scale: 'metric' },
  { key: 'val_acc', scale: 'metric' },
];

/**
 * Points sharing a step (a step point and an epoch point) merge; the epoch point wins. When every
 * key seen so far is one of `expected`, all of `expected` are kept (empty if need be), so the
 * set of series stays the same from the first point to the last.
 */
export function toChartData(history: readonly MetricPoint[], expected: readonly ChartSeries[] = []): ChartData {
  const rows = new Map<number, Record<string, number>>();
  const keys = new Set<string>();
  for (const p of history) {
    const row = rows.get(p.step) ?? {};
    const values: Record<string, number> = { loss: p.loss, ...p.metrics };
    for (const [k, v] of Object.entries(values)) {
      if (!Number.isFinite(v) || NOT_CHARTED.has(k)) continue;
      if (p.kind === 'epoch' || row[k] === undefined) row[k] = v;
      keys.add(k);
    }
    rows.set(p.step, row);
  }
  if ([...keys].every((k) => expected.some((e) => e.key === k))) for (const e of expected) keys.add(e.key);
  const series = [...keys]
    .sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : 1))
    .map((key): ChartSeries => ({ key, scale: key.includes('loss') ? 'loss' : 'metric' }));
  const x = [...rows.keys()].sort((a, b) => a - b);
  const columns = series.map((s) => x.map((step) => rows.get(step)![s.key] ?? null));
  return { series, x, columns };
}
