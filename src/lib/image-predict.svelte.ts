// Predictions of an image classifier on the page: one picked or dropped file, or the camera live
// (a frame at most every LIVE_PREDICT_INTERVAL_MS, the next asked only when the last answered, so
// a busy worker is never flooded). The worker answers from the live model between training steps.
import type { Prediction } from '../../shared/package-format';
import { closeCamera, grabFrame, LIVE_PREDICT_INTERVAL_MS, openCamera } from './camera';
import type { TrainerClient } from './trainer-client';

type PredictClient = Pick<TrainerClient, 'predictImage'>;

function message(error: unknown): string {
  return error instanceof Error ? error.message || error.name : String(error);
}

export class ImagePredictor {
  prediction: (Prediction & { jobId: string; source: 'file' | 'camera' }) | null = $state.raw(null);
  error: string | null = $state(null);
  busy = $state(false);
  live = $state(false);
  /** The job the camera predicts for while live. */
  liveJobId: string | null = $state(null);
  /** Live predictions received since the camera started (the e2e tests watch it grow). */
  updates = $state(0);

  #client: () => PredictClient | null;
  #stream: MediaStream | null = null;
  #video: HTMLVideoElement | null = null;

  constructor(client: () => PredictClient | null) {
    this.#client = client;
  }

  #need(): PredictClient {
    const client = this.#client();
    if (!client) throw new Error('Lathe is still starting; try again in a moment.');
    return client;
  }

  async predictFile(jobId: string, file: File): Promise<void> {
    this.busy = true;
    this.error = null;
    try {
      this.prediction = { jobId, source: 'file', ...(await this.#need().predictImage(jobId, file)) };
    } catch (error) {
      this.error = `Could not predict “${file.name}”: ${message(error)}`;
    } finally {
      this.busy = false;
    }
  }

  async startLive(jobId: string, video: HTMLVideoElement): Promise<void> {
    this.error = null;
    try {
      this.#stream = await openCamera(video);
    } catch (error) {
      this.error = message(error);
      return;
    }
    this.#video = video;
    this.live = true;
    this.liveJobId = jobId;
    this.updates = 0;
    while (this.live && this.#video === video) {
      const started = performance.now();
      try {
        const frame = await grabFrame(video);
        if (frame) {
          const p = await this.#need().predictImage(jobId, frame);
          if (this.live) {
            this.prediction = { jobId, source: 'camera', ...p };
            this.updates++;
          }
        }
      } catch (error) {
        this.error = `Live prediction stopped: ${message(error)}`;
        this.stopLive();
        return;
      }
      const rest = LIVE_PREDICT_INTERVAL_MS - (performance.now() - started);
      await new Promise((r) => setTimeout(r, Math.max(0, rest)));
    }
  }

  stopLive(): void {
    this.live = false;
    this.liveJobId = null;
    closeCamera(this.#stream, this.#video);
    this.#stream = null;
    this.#video = null;
  }

  /** Forgets what belonged to another job. */
  forJob(jobId: string): void {
    if (this.prediction && this.prediction.jobId !== jobId) this.prediction = null;
    this.error = null;
  }
}
