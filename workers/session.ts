// One training run held in worker memory: the model, optimizer, device data and the cursor, and
// the hand-written step loop (one optimizer step per batch, seeded shuffle, a macrotask yield
// between steps so pause and cancel land within one step). It never touches IndexedDB itself:
// checkpoints and progress leave through the hooks.
import * as tf from '@tensorflow/tfjs';
import type { TrainConfig } from '../shared/config';
import type { CheckpointCursor } from '../shared/db';
import type { JobProgress, MetricPoint, Stage } from '../shared/jobs';
import { SeededRng, type RngState } from '../shared/rng';
import type { DataSource } from './data-source';
import type { Objective } from './objective';
import { etaMs, ThroughputMeter } from './throughput';
import { yieldToEventLoop } from './yield';

/** Progress (and its GPU read-back) at most this often: 10 events a second. */
export const PROGRESS_INTERVAL_MS = 100;
/** The loss shown with progress is refreshed at most this often: each read-back stalls a GPU
 * pipeline (WebGL most), while progress itself (step, speed, ETA) still goes out at 10 a second. */
export const LOSS_READBACK_INTERVAL_MS = 500;
/** Epoch-end checkpoints are skipped when the last one is younger than this; tiny epochs would
 * otherwise spend most of their time checkpointing. The time cadence still applies. */
export const MIN_EPOCH_CHECKPOINT_GAP_MS = 1000;
/**
 * Most of the training time the loop's own checkpoints may take (a fraction): after a checkpoint
 * that took X ms, the next interval or epoch checkpoint waits at least X / MAX_CHECKPOINT_SHARE
 * ms. A 3 MB read-back from a software GPU (~250 ms) would otherwise eat several percent at a
 * 10 s interval. Pause and the end of the run always write one. An interval of 0 (tests) still
 * means after every step.
 */
export const MAX_CHECKPOINT_SHARE = 0.02;
/** Validation forward passes run in chunks of this many rows to bound memory. */
const EVAL_CHUNK_ROWS = 4096;
/** History beyond this many points is thinned (deterministically, so resumes stay identical). */
export const MAX_HISTORY_POINTS = 4000;
/** Read-backs allowed in flight before the loop waits: keeps the CPU at most a few progress
 * intervals ahead of the GPU, so pause and cancel stay prompt and memory stays bounded. */
const MAX_READS_IN_FLIGHT = 2;

/** `breakpoint`: paused by itself at `breakpointStep`, exactly as if Pause had been pressed there. */
export type RunOutcome = 'completed' | 'paused' | 'cancelled' | 'breakpoint';
export type CheckpointReason = 'interval' | 'epoch';

/** Progress as the loop knows it; the owner adds the backend. */
export type LiveProgress = Omit<JobProgress, 'backend'>;

export interface SessionHooks {
  /** Throttled to PROGRESS_INTERVAL_MS; `points` are history points recorded since the last call. */
  progress(p: LiveProgress, points: MetricPoint[]): void;
  /** Write a checkpoint now; the loop waits for it. */
  checkpoint(reason: CheckpointReason): Promise<void>;
  /** The loop entered another stage (for the job log). */
  stage?(stage: Stage): void;
}

export interface SessionState {
  cursor: CheckpointCursor;
  rng: { epochStart: RngState; current: RngState };
  epochAccumulators: Record<string, number>;
  history: MetricPoint[];
}

export interface SessionOptions {
  config: TrainConfig;
  source: DataSource;
  objective: Objective;
  model: tf.LayersModel;
  optimizer: tf.Optimizer;
  historyEverySteps: number;
  checkpointIntervalMs: number;
  /** Usually set later with `setHooks`, once the owner exists. */
  hooks?: SessionHooks;
  now?: () => number;
  /** Restored state; a fresh run starts at step 0 with the RNG seeded from the config. */
  restored?: SessionState;
}

export class TrainingSession {
  readonly config: TrainConfig;
  readonly source: DataSource;
  readonly objective: Objective;
  readonly model: tf.LayersModel;
  readonly optimizer: tf.Optimizer;
  readonly stepsPerEpoch: number;
  cursor: CheckpointCursor;
  history: MetricPoint[];
  checkpointIntervalMs: number;
  historyEverySteps: number;
  /** The loop pauses right after this global step (a breakpoint), or never when null. */
  breakpointStep: number | null = null;
  #hooks: SessionHooks;
  #now: () => number;
  #vars: tf.Variable[];
  #rng: SeededRng;
  #epochStart: RngState;
  /** The epoch's running sums on the device, in `objective.sums` order. */
  #acc: tf.Tensor1D;
  #accSeen: number;
  #stop: 'pause' | 'cancel' | 'breakpoint' | null = null;
  #stage: Stage = 'preprocessing';
  #lastLoss: number | null = null;
  #lastMetrics: Record<string, number> = {};
  #pendingPoints: MetricPoint[] = [];
  #lastProgressAt = -Infinity;
  #lastLossReadAt = -Infinity;
  #lastCheckpointAt: number;
  /**
   * What a checkpoint costs, in ms (hook included: read-back, encode, write): the last one's
   * cost, or half the previous estimate if that is more, so one cheap checkpoint after slow ones
   * does not shorten the spacing at once.
   */
  #checkpointCostMs = 0;
  #meter = new ThroughputMeter();
  #disposed = false;
  /** Device read-backs, chained so history points arrive in step order without stalling steps. */
  #reads: Promise<void> = Promise.resolve();
  #readsInFlight = 0;
  #readError: Error | null = null;

  constructor(o: SessionOptions) {
    this.config = o.config;
    this.source = o.source;
    this.objective = o.objective;
    this.model = o.model;
    this.optimizer = o.optimizer;
    this.#hooks = o.hooks ?? { progress: () => undefined, checkpoint: async () => undefined };
    this.#now = o.now ?? (() => performance.now());
    this.checkpointIntervalMs = o.checkpointIntervalMs;
    this.historyEverySteps = Math.max(1, Math.floor(o.historyEverySteps));
    this.stepsPerEpoch = Math.ceil(o.source.numTrain / o.config.batchSize);
    this.#vars = o.model.trainableWeights.map((w) => w.read() as tf.Variable);
    const r = o.restored;
    this.cursor = r ? { ...r.cursor } : { epoch: 0, batch: 0, globalStep: 0 };
    this.history = r ? [...r.history] : [];
    const acc = r?.epochAccumulators;
    this.#acc = tf.tensor1d(o.objective.sums.map((name) => acc?.[name] ?? 0));
    this.#accSeen = acc?.seen ?? 0;
    // Mid-epoch, replay the epoch's shuffle from the state it started with; at a boundary, the
    // next epoch draws from the current state.
    if (r && r.cursor.batch > 0) {
      this.#rng = new SeededRng(r.rng.epochStart);
      this.#epochStart = r.rng.epochStart;
      this.source.beginEpoch(this.#rng);
    } else {
      this.#rng = r ? new SeededRng(r.rng.current) : SeededRng.fromSeed(o.config.seed);
      this.#epochStart = this.#rng.state;
    }
    this.#lastCheckpointAt = this.#now();
  }

  setHooks(hooks: SessionHooks): void {
    this.#hooks = hooks;
  }

  get stage(): Stage {
    return this.#stage;
  }

  get finished(): boolean {
    return this.cursor.epoch >= this.config.epochs;
  }

  /** Asks the loop to stop after the current step. */
  requestStop(kind: 'pause' | 'cancel'): void {
    if (this.#stop !== 'cancel') this.#stop = kind;
  }

  #stopRequest(): 'pause' | 'cancel' | 'breakpoint' | null {
    return this.#stop;
  }

  /** Total optimizer steps of the run. */
  get totalSteps(): number {
    return this.config.epochs * this.stepsPerEpoch;
  }

  async run(): Promise<RunOutcome> {
    if (this.#disposed) throw new Error('This training session was already disposed.');
    this.#stop = null;
    let warmup = true;
    this.#setStage('warmup');
    while (!this.finished) {
      if (this.cursor.batch === 0) {
        this.#epochStart = this.#rng.state;
        this.source.beginEpoch(this.#rng);
      }
      this.#step();
      this.cursor.batch++;
      this.cursor.globalStep++;
      if (this.#readError) throw this.#readError;
      if (warmup) {
        // The first step compiles kernels (slow on WebGPU); finish it before measuring speed.
        await this.#readNow();
        warmup = false;
        this.#setStage('training');
        this.#meter.reset(this.#now());
      }
      if (this.cursor.globalStep % this.historyEverySteps === 0) this.#recordPoint('step');
      if (this.cursor.batch >= this.stepsPerEpoch) {
        await this.#endEpoch();
        if (this.#checkpointDue(MIN_EPOCH_CHECKPOINT_GAP_MS)) await this.#checkpoint('epoch');
      } else if (this.#checkpointDue(this.checkpointIntervalMs)) {
        await this.#checkpoint('interval');
      }
      if (this.cursor.globalStep === this.breakpointStep && !this.finished) {
        // Checked before the yield, so no pause or cancel message can slip in between: the run
        // stops at exactly this step whatever the machine's speed.
        this.breakpointStep = null;
        this.#stop ??= 'breakpoint';
      }
      await this.#maybeProgress();
      await yieldToEventLoop();
      // Read through a method: a pause or cancel message may have set it during the awaits above.
      const stop = this.#stopRequest();
      if (stop) {
        await this.#drainReads();
        return stop === 'pause' ? 'paused' : stop === 'cancel' ? 'cancelled' : 'breakpoint';
      }
    }
    await this.#drainReads();
    return 'completed';
  }

  #step(): void {
    const { objective } = this;
    let size = 0;
    const acc = tf.tidy(() => {
      const batch = this.source.trainBatch(this.cursor.batch, this.config.batchSize);
      size = batch.size;
      let output: tf.Tensor | null = null;
      const cost = this.optimizer.minimize(
        () => {
          output = tf.keep(this.model.apply(batch.x, { training: true }) as tf.Tensor);
          return objective.loss(output, batch.y);
        },
        true,
        this.#vars,
      )!;
      const out = output as unknown as tf.Tensor;
      const sums = this.#acc.add(objective.batchSums(out, batch.y, cost, batch.size));
      out.dispose();
      return sums as tf.Tensor1D;
    });
    this.#acc.dispose();
    this.#acc = acc;
    this.#accSeen += size;
    this.#meter.add(size);
  }

  /**
   * Snapshots the epoch's running sums (plus any `extra` device values) and reads them back
   * without blocking the loop; `use` gets the metrics so far once the values arrive, in order.
   */
  #readLater(extra: tf.Tensor | null, use: (metrics: Record<string, number>, extra: Float32Array) => void): void {
    const seen = Math.max(1, this.#accSeen);
    const sums = this.objective.sums;
    const snapshot = tf.tidy(() => (extra ? tf.concat([this.#acc, extra.reshape([-1])]) : this.#acc.clone()));
    extra?.dispose();
    this.#readsInFlight++;
    this.#reads = this.#reads
      .then(async () => {
        const values = (await snapshot.data()) as Float32Array;
        const metrics = this.objective.metrics(Object.fromEntries(sums.map((name, i) => [name, values[i]!])), seen);
        const { loss, ...rest } = metrics;
        this.#lastLoss = loss ?? null;
        this.#lastMetrics = { ...this.#lastMetrics, ...rest };
        use(metrics, values.subarray(sums.length));
      })
      .catch((err: unknown) => {
        this.#readError ??= err instanceof Error ? err : new Error(String(err));
      })
      .finally(() => {
        snapshot.dispose();
        this.#readsInFlight--;
      });
  }

  async #drainReads(): Promise<void> {
    await this.#reads;
    if (this.#readError) throw this.#readError;
  }

  async #readNow(): Promise<void> {
    this.#readLater(null, () => undefined);
    await this.#drainReads();
  }

  #recordPoint(kind: 'step' | 'epoch', val: tf.Tensor | null = null): void {
    const epoch = kind === 'epoch' ? this.cursor.epoch + 1 : this.cursor.epoch;
    const step = this.cursor.globalStep;
    const { numVal } = this.source;
    const sums = this.objective.sums;
    this.#readLater(val, (metrics, extra) => {
      const valMetrics: Record<string, number> = {};
      if (extra.length === sums.length) {
        const v = this.objective.metrics(Object.fromEntries(sums.map((name, i) => [name, extra[i]!])), numVal);
        for (const [name, value] of Object.entries(v)) valMetrics[`val_${name}`] = value;
      }
      const { loss, ...trainMetrics } = metrics;
      const point: MetricPoint = { kind, epoch, step, loss: loss!, metrics: { ...trainMetrics, ...valMetrics }, timeMs: Date.now() };
      if (kind === 'epoch') this.#lastMetrics = { ...this.#lastMetrics, ...valMetrics };
      this.history.push(point);
      if (this.history.length > MAX_HISTORY_POINTS) this.history = thinHistory(this.history);
      this.#pendingPoints.push(point);
    });
  }

  async #endEpoch(): Promise<void> {
    this.#recordPoint('epoch', this.#validate());
    this.cursor.epoch++;
    this.cursor.batch = 0;
    this.#acc.dispose();
    this.#acc = tf.zeros([this.objective.sums.length]);
    this.#accSeen = 0;
    this.#setStage('training');
  }

  /** Validation sums on the device (in `objective.sums` order), or null without a validation set. */
  #validate(): tf.Tensor | null {
    if (this.source.numVal === 0) return null;
    this.#setStage('validation');
    return tf.tidy(() => {
      let sums: tf.Tensor = tf.zeros([this.objective.sums.length]);
      for (const chunk of this.source.validationChunks(EVAL_CHUNK_ROWS)) {
        const out = this.model.apply(chunk.x, { training: false }) as tf.Tensor;
        sums = sums.add(this.objective.batchSums(out, chunk.y, this.objective.loss(out, chunk.y), chunk.size));
      }
      return sums;
    });
  }

  /** Whether `gapMs` has passed since the last checkpoint, stretched to keep their share bounded. */
  #checkpointDue(gapMs: number): boolean {
    const bounded = this.checkpointIntervalMs > 0 ? this.#checkpointCostMs / MAX_CHECKPOINT_SHARE : 0;
    return this.#now() - this.#lastCheckpointAt >= Math.max(gapMs, bounded);
  }

  async #checkpoint(reason: CheckpointReason): Promise<void> {
    const previous = this.#stage;
    this.#setStage('saving-checkpoint');
    const started = this.#now();
    await this.#hooks.checkpoint(reason);
    this.#lastCheckpointAt = this.#now();
    this.#checkpointCostMs = Math.max(this.#lastCheckpointAt - started, this.#checkpointCostMs / 2);
    this.#setStage(previous === 'saving-checkpoint' ? 'training' : previous);
  }

  /** Marks the time of a checkpoint written from outside the loop (pause, final). */
  noteCheckpointWritten(): void {
    this.#lastCheckpointAt = this.#now();
  }

  #setStage(stage: Stage): void {
    if (stage !== this.#stage) this.#hooks.stage?.(stage);
    this.#stage = stage;
  }

  async #maybeProgress(): Promise<void> {
    const now = this.#now();
    if (now - this.#lastProgressAt < PROGRESS_INTERVAL_MS) return;
    this.#lastProgressAt = now;
    // Back-pressure: never run more than a couple of read-backs ahead of the device.
    if (this.#readsInFlight >= MAX_READS_IN_FLIGHT) await this.#drainReads();
    if (this.cursor.batch > 0 && now - this.#lastLossReadAt >= LOSS_READBACK_INTERVAL_MS) {
      this.#lastLossReadAt = now;
      this.#readLater(null, () => undefined);
    }
    this.#meter.sample(this.#now());
    this.#hooks.progress(this.progress(), this.#pendingPoints);
    this.#pendingPoints = [];
  }

  progress(): LiveProgress {
    const total = this.config.epochs * this.stepsPerEpoch;
    const rate = this.#meter.rate;
    const remainingSamples = Math.max(0, total - this.cursor.globalStep) * this.config.batchSize;
    return {
      stage: this.#stage,
      epoch: this.cursor.epoch,
      epochs: this.config.epochs,
      step: this.cursor.globalStep,
      stepsPerEpoch: this.stepsPerEpoch,
      percent: total === 0 ? 100 : Math.min(100, (100 * this.cursor.globalStep) / total),
      loss: this.#lastLoss,
      metrics: { ...this.#lastMetrics },
      samplesPerSec: rate,
      etaMs: etaMs(rate, remainingSamples),
    };
  }

  /** Points recorded but not yet sent with a progress event. */
  takePendingPoints(): MetricPoint[] {
    const points = this.#pendingPoints;
    this.#pendingPoints = [];
    return points;
  }

  /** Everything a checkpoint needs beyond weights, read back from the device. */
  async captureState(): Promise<SessionState> {
    await this.#drainReads();
    const values = await this.#acc.data();
    const epochAccumulators: Record<string, number> = { seen: this.#accSeen };
    this.objective.sums.forEach((name, i) => (epochAccumulators[name] = values[i]!));
    return {
      cursor: { ...this.cursor },
      rng: { epochStart: this.#epochStart, current: this.#rng.state },
      epochAccumulators,
      history: [...this.history],
    };
  }

  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#acc.dispose();
    this.source.dispose();
    this.optimizer.dispose();
    this.model.dispose();
  }
}

/**
 * Halves the older half of a long history: step points go first (every other one), and epoch
 * points only once no step points are left there. The newest half keeps full resolution.
 */
export function thinHistory(history: MetricPoint[]): MetricPoint[] {
  const half = Math.floor(history.length / 2);
  const old = history.slice(0, half);
  const hasSteps = old.some((p) => p.kind === 'step');
  let seen = 0;
  const kept = old.filter((p) => {
    if (hasSteps && p.kind === 'epoch') return true;
    return seen++ % 2 === 0;
  });
  return [...kept, ...history.slice(half)];
}
