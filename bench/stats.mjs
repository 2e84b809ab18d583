// @ts-check
// Small statistics over measured samples. Empty input gives null: "not measured" is not 0.

/**
 * Nearest-rank percentile (p in 0..100).
 * @param {number[]} values
 * @param {number} p
 * @returns {number | null}
 */
export function percentile(values, p) {
  const finite = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (finite.length === 0) return null;
  const rank = Math.max(1, Math.ceil((p / 100) * finite.length));
  return finite[rank - 1] ?? null;
}

/** @param {number[]} values */
export const median = (values) => percentile(values, 50);

/** @param {number[]} values @returns {number | null} */
export function max(values) {
  const finite = values.filter((v) => Number.isFinite(v));
  return finite.length === 0 ? null : Math.max(...finite);
}

/**
 * Rounds to `digits` decimals, keeping null.
 * @param {number | null | undefined} v
 * @param {number} [digits]
 * @returns {number | null}
 */
export function round(v, digits = 1) {
  if (v === null || v === undefined || !Number.isFinite(v)) return null;
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
