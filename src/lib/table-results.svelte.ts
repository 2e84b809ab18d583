// What a trained table model gives back, on the page: its evaluation on the validation split, a
// prediction for one row typed into the form, and a CSV answered row by row (downloaded). All
// the work is the worker's; a running job answers from its live model without stopping.
import type { Evaluation } from '../../shared/evaluation';
import type { Prediction } from '../../shared/package-format';
import type { TrainerClient } from './trainer-client';
import { download } from './transfer-io';

type ResultsClient = Pick<TrainerClient, 'evaluate' | 'predictRecords' | 'predictFile'>;

function message(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}

export class TableResults {
  evaluation: Evaluation | null = $state.raw(null);
  evaluating = $state(false);
  evaluationError: string | null = $state(null);
  prediction: (Prediction & { jobId: string }) | null = $state.raw(null);
  predictError: string | null = $state(null);
  predicting = $state(false);
  batchStatus: string | null = $state(null);
  batchError: string | null = $state(null);
  batchBusy = $state(false);

  #client: () => ResultsClient | null;

  constructor(client: () => ResultsClient | null) {
    this.#client = client;
  }

  #need(): ResultsClient {
    const client = this.#client();
    if (!client) throw new Error('Lathe is still starting; try again in a moment.');
    return client;
  }

  /** Forgets what belonged to another job. */
  forJob(jobId: string): void {
    if (this.evaluation && this.evaluation.jobId !== jobId) this.evaluation = null;
    if (this.prediction && this.prediction.jobId !== jobId) this.prediction = null;
    this.evaluationError = null;
    this.predictError = null;
    this.batchError = null;
    this.batchStatus = null;
  }

  async evaluate(jobId: string): Promise<void> {
    this.evaluating = true;
    this.evaluationError = null;
    try {
      this.evaluation = await this.#need().evaluate(jobId);
    } catch (error) {
      this.evaluationError = `Could not evaluate: ${message(error)}`;
    } finally {
      this.evaluating = false;
    }
  }

  async predict(jobId: string, record: Record<string, string>): Promise<void> {
    this.predicting = true;
    this.predictError = null;
    try {
      this.prediction = { jobId, ...(await this.#need().predictRecords(jobId, [record])) };
    } catch (error) {
      this.predictError = message(error);
    } finally {
      this.predicting = false;
    }
  }

  async predictFile(jobId: string, file: File): Promise<void> {
    this.batchBusy = true;
    this.batchError = null;
    this.batchStatus = null;
    try {
      const out = await this.#need().predictFile(jobId, file);
      await download([out]);
      this.batchStatus = `Predicted every row of “${file.name}”: downloaded “${out.name}”.`;
    } catch (error) {
      this.batchError = `Could not predict “${file.name}”: ${message(error)}`;
    } finally {
      this.batchBusy = false;
    }
  }
}
