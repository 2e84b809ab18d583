// Words and numbers for the job view: durations, rates and metric values.

export { formatBytes, formatDuration } from '../../shared/format';

export function formatRate(samplesPerSec: number | null): string {
  if (samplesPerSec === null || !Number.isFinite(samplesPerSec)) return '—';
  const digits = samplesPerSec >= 100 ? 0 : 1;
  return `${samplesPerSec.toLocaleString('en', { maximumFractionDigits: digits })} samples/s`;
}

export function formatMetric(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  return Math.abs(value) >= 100 ? value.toFixed(1) : value.toPrecision(4);
}

/** For data-* attributes: empty when unknown, so tests can tell "no value" from zero. */
export function attr(value: number | null | undefined): string {
  return value === null || value === undefined || !Number.isFinite(value) ? '' : String(value);
}

/** "14:05" today, "Nov 23, 14:05" on other days. */
export function formatTime(ms: number | null, now: number = Date.now()): string {
  if (ms === null) return '—';
  const date = new Date(ms);
  const today = new Date(now).toDateString() === date.toDateString();
  return today
    ? date.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' })
    : date.toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
}
