// The setup form's state: the chosen sample, its loaded dataset, and the training config the
// user is editing. It survives failed submits, so nothing typed is lost.
import { validateConfig, type HiddenLayer, type TrainConfig } from '../../shared/config';
import { validateBreakpoint, type Breakpoint } from '../../shared/jobs';
import type { DatasetInput } from '../../shared/dataset';
import { defaultJobName } from './job-records';
import { describeDataset, loadSample, sampleInfo, SAMPLES, type SampleId } from './samples';

export const MAX_HIDDEN_LAYERS = 8;

export function isSampleId(value: string): value is SampleId {
  return SAMPLES.some((s) => s.id === value);
}

export class SetupForm {
  datasetId: SampleId = $state('sample:xor');
  config: TrainConfig = $state(structuredClone(SAMPLES[0]!.recommended));
  /** Typed arrays must not be proxied: replaced whole. */
  dataset: DatasetInput | null = $state.raw(null);
  loadError: string | null = $state(null);
  submitting = $state(false);
  /** "Pause at": none, or a step or epoch number (a breakpoint for the new job). */
  breakpointKind: 'none' | Breakpoint['kind'] = $state('none');
  breakpointAt = $state(1);

  readonly breakpoint: Breakpoint | null = $derived(
    this.breakpointKind === 'none' ? null : { kind: this.breakpointKind, at: this.breakpointAt },
  );
  readonly problems: string[] = $derived([
    ...validateConfig(this.config),
    ...validateBreakpoint(this.breakpoint, this.config.epochs),
  ]);
  readonly summary: string = $derived(
    this.loadError ?? (this.dataset ? describeDataset(this.dataset) : 'Loading the dataset…'),
  );
  readonly canTrain: boolean = $derived(this.problems.length === 0 && this.dataset !== null && !this.submitting);

  #loadToken = 0;

  /** Switches dataset and fills in its recommended config. Never rejects: problems land in `loadError`. */
  async choose(id: SampleId): Promise<void> {
    const info = sampleInfo(id);
    if (!info) return;
    const token = ++this.#loadToken;
    this.datasetId = id;
    this.config = structuredClone(info.recommended);
    this.dataset = null;
    this.loadError = null;
    try {
      const dataset = await loadSample(id, import.meta.env.BASE_URL);
      // The user may have picked another sample while this one loaded.
      if (token === this.#loadToken) this.dataset = dataset;
    } catch (error) {
      if (token === this.#loadToken)
        this.loadError = `Could not load ${info.name}: ${error instanceof Error ? error.message : String(error)}`;
    }
  }

  addLayer(): void {
    const hidden = this.config.model.hidden;
    if (hidden.length >= MAX_HIDDEN_LAYERS) return;
    const last: HiddenLayer = hidden[hidden.length - 1] ?? { units: 8, activation: 'relu' };
    hidden.push({ ...last });
  }

  removeLayer(index: number): void {
    this.config.model.hidden.splice(index, 1);
  }

  jobName(): string {
    return defaultJobName(sampleInfo(this.datasetId)?.name ?? this.datasetId, this.config);
  }
}
