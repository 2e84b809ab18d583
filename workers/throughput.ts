// Samples per second and ETA, smoothed, from the sample counts the loop reports.

/** Weight of the newest window in the moving average. */
const SMOOTHING = 0.3;

export class ThroughputMeter {
  #rate: number | null = null;
  #windowStart = 0;
  #windowSamples = 0;

  /** Starts (or restarts after warmup or a pause) a measuring window. */
  reset(nowMs: number): void {
    this.#windowStart = nowMs;
    this.#windowSamples = 0;
  }

  add(samples: number): void {
    this.#windowSamples += samples;
  }

  /** Closes the window and folds it into the average; returns samples per second. */
  sample(nowMs: number): number | null {
    const dt = nowMs - this.#windowStart;
    if (dt > 0 && this.#windowSamples > 0) {
      const rate = (this.#windowSamples * 1000) / dt;
      this.#rate = this.#rate === null ? rate : SMOOTHING * rate + (1 - SMOOTHING) * this.#rate;
      this.reset(nowMs);
    }
    return this.#rate;
  }

  get rate(): number | null {
    return this.#rate;
  }
}

export function etaMs(samplesPerSec: number | null, remainingSamples: number): number | null {
  if (!samplesPerSec || samplesPerSec <= 0) return null;
  return Math.round((remainingSamples / samplesPerSec) * 1000);
}
