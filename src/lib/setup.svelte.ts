// The setup form's state: the chosen dataset (a sample, or a stored upload), how its columns are
// used (the plan: target, task, column types, missing values, checked against the rows by the
// worker), and the training config. It survives failed submits, so nothing typed is lost.
import { DEFAULT_CONFIG, isTextModel, validateConfig, type HiddenLayer, type MlpConfig, type ModelKind, type TrainConfig } from '../../shared/config';
import type { DatasetSummary } from '../../shared/dataset';
import { validateBreakpoint, type Breakpoint } from '../../shared/jobs';
import type { PlanCheck } from '../../shared/protocol';
import { CNN_CONFIG, TRANSFER_CONFIG } from '../../shared/image-presets';
import { isSampleId, sampleInfo, TEXT_SAMPLE_CONFIG, TEXT_TRANSFORMER_CONFIG } from '../../shared/samples';
import type { ColumnType, TablePlan, TableTask } from '../../shared/table-types';
import { defaultJobName } from './job-records';
import type { TrainerClient } from './trainer-client';

export const MAX_HIDDEN_LAYERS = 8;
/** The plan is checked against the rows at most this often while the user edits it, in ms. */
const PLAN_CHECK_DELAY_MS = 150;

/** For a user's own table: a modest MLP that trains most small tables well. */
export const TABLE_CONFIG: TrainConfig = {
  ...DEFAULT_CONFIG,
  model: { kind: 'mlp', hidden: [{ units: 32, activation: 'relu' }, { units: 16, activation: 'relu' }] },
  learningRate: 0.01,
  batchSize: 32,
  epochs: 50,
  validationSplit: 0.2,
};

export { CNN_CONFIG, TRANSFER_CONFIG };

/** For a user's own text: the text sample's LSTM preset. */
export const TEXT_CONFIG: TrainConfig = TEXT_SAMPLE_CONFIG;

/** The text model architectures the editor offers: the two recurrent cells and the transformer. */
export type TextArchitecture = 'lstm' | 'gru' | 'transformer';

type SetupClient = Pick<TrainerClient, 'sample' | 'checkPlan'>;

export class SetupForm {
  /** The dataset select's value: a sample id ("sample:iris") or a stored dataset's id. */
  datasetId: string = $state('sample:xor');
  dataset: DatasetSummary | null = $state.raw(null);
  config: TrainConfig = $state(structuredClone(sampleInfo('sample:xor')!.recommended));
  /** How the dataset's columns are used; starts as the dataset's suggestion. */
  plan: TablePlan | null = $state(null);
  check: PlanCheck | null = $state.raw(null);
  checking = $state(false);
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
    ...(this.check?.problems ?? []),
  ]);
  readonly summary: string = $derived(
    this.loadError ?? (this.dataset ? describeDataset(this.dataset, this.plan) : 'Loading the dataset…'),
  );
  readonly canTrain: boolean = $derived(
    this.problems.length === 0 &&
      this.dataset !== null &&
      (this.dataset.kind !== 'table' || (this.plan !== null && this.check !== null && !this.checking)) &&
      !this.submitting,
  );
  readonly isImages: boolean = $derived(this.dataset?.kind === 'images' || sampleInfo(this.datasetId)?.kind === 'images');
  readonly isText: boolean = $derived(this.dataset?.kind === 'text' || sampleInfo(this.datasetId)?.kind === 'text');

  #client: () => SetupClient | null;
  #loadToken = 0;
  #checkTimer: ReturnType<typeof setTimeout> | null = null;
  #checkToken = 0;

  #onStored: () => void;

  /** `onStored`: a sample was made and stored (the datasets list should show it). */
  constructor(client: () => SetupClient | null = () => null, onStored: () => void = () => undefined) {
    this.#client = client;
    this.#onStored = onStored;
  }

  /**
   * Switches dataset: a sample fills in its recommended config; a stored upload keeps the model and
   * training settings but starts from its own suggested plan. Never rejects: problems land in `loadError`.
   */
  async choose(id: string, stored: DatasetSummary | undefined = undefined): Promise<void> {
    const token = ++this.#loadToken;
    const previous = this.datasetId;
    this.datasetId = id;
    this.dataset = null;
    this.plan = null;
    this.check = null;
    this.loadError = null;
    const sample = isSampleId(id) ? sampleInfo(id) : undefined;
    if (sample) this.config = structuredClone(sample.recommended);
    // Images train a CNN or a transfer head; tables an MLP: a config of the other kind never fits.
    else if (stored?.kind === 'images' && this.config.model.kind === 'mlp') this.config = structuredClone(CNN_CONFIG);
    else if (stored?.kind === 'images' && isTextModel(this.config.model)) this.config = structuredClone(CNN_CONFIG);
    else if (stored?.kind === 'text' && !isTextModel(this.config.model)) this.config = structuredClone(TEXT_CONFIG);
    else if (stored?.kind === 'table' && this.config.model.kind !== 'mlp') this.config = structuredClone(TABLE_CONFIG);
    // Leaving a sample for an upload: the sample's tuned settings would not fit it.
    else if (isSampleId(previous)) this.config = structuredClone(stored?.kind === 'images' ? CNN_CONFIG : stored?.kind === 'text' ? TEXT_CONFIG : TABLE_CONFIG);
    try {
      let dataset = stored ?? null;
      if (sample) {
        const client = this.#client();
        if (!client) throw new Error('Lathe is still starting.');
        const made = await client.sample(sample.id);
        dataset = made.dataset;
        if (!made.reused) this.#onStored();
      }
      if (!dataset) throw new Error('That dataset is no longer stored.');
      // The user may have picked another dataset while this one loaded.
      if (token !== this.#loadToken) return;
      this.dataset = dataset;
      if (dataset.kind !== 'table') return;
      this.plan = structuredClone(dataset.defaultPlan);
      this.#scheduleCheck(0);
    } catch (error) {
      if (token === this.#loadToken) this.loadError = `Could not load the dataset: ${error instanceof Error ? error.message : String(error)}`;
    }
  }

  /** A freshly added image dataset: selected, with the CNN preset unless an image model is set up already. */
  async chooseImages(dataset: DatasetSummary): Promise<void> {
    if (this.config.model.kind === 'mlp') this.config = structuredClone(CNN_CONFIG);
    await this.choose(dataset.id, dataset);
  }

  /**
   * Switches an image job between the CNN and transfer learning, or a text job between the
   * recurrent model and the transformer (each with its preset settings).
   */
  setModelKind(kind: ModelKind): void {
    if (kind === this.config.model.kind) return;
    const preset =
      kind === 'transfer' ? TRANSFER_CONFIG
      : kind === 'cnn' ? CNN_CONFIG
      : kind === 'rnn' ? TEXT_CONFIG
      : kind === 'transformer' ? TEXT_TRANSFORMER_CONFIG
      : TABLE_CONFIG;
    this.config = { ...structuredClone(preset), seed: this.config.seed };
  }

  get textArchitecture(): TextArchitecture | null {
    const m = this.config.model;
    return m.kind === 'rnn' ? m.cell : m.kind === 'transformer' ? 'transformer' : null;
  }

  /** LSTM and GRU share the recurrent settings; the transformer starts from its preset. */
  setTextArchitecture(architecture: TextArchitecture): void {
    if (architecture === 'transformer') {
      this.setModelKind('transformer');
      return;
    }
    this.setModelKind('rnn');
    if (this.config.model.kind === 'rnn') this.config.model.cell = architecture;
  }

  /** A freshly added upload: selected, with the table defaults. */
  async chooseUpload(dataset: DatasetSummary): Promise<void> {
    this.config = structuredClone(TABLE_CONFIG);
    await this.choose(dataset.id, dataset);
  }

  setTarget(name: string): void {
    if (!this.plan || this.dataset?.kind !== 'table') return;
    const columns = { ...this.plan.columns };
    const previous = this.plan.target;
    delete columns[name];
    const back = this.dataset.columns.find((c) => c.name === previous);
    columns[previous] = back ? back.inferred : 'ignored';
    const target = this.dataset.columns.find((c) => c.name === name);
    const task: TableTask = target?.inferred === 'categorical' || (target?.distinctCount ?? 99) <= 20 ? 'classification' : 'regression';
    this.plan = { ...this.plan, target: name, task, columns };
    this.#scheduleCheck();
  }

  setColumnType(name: string, type: ColumnType): void {
    if (!this.plan) return;
    this.plan = { ...this.plan, columns: { ...this.plan.columns, [name]: type } };
    this.#scheduleCheck();
  }

  setTask(task: TableTask): void {
    if (!this.plan) return;
    this.plan = { ...this.plan, task };
    this.#scheduleCheck();
  }

  setMissing(missing: TablePlan['missing']): void {
    if (!this.plan) return;
    this.plan = { ...this.plan, missing };
    this.#scheduleCheck();
  }

  /** The MLP being edited (tables), or null for an image model. */
  get mlp(): MlpConfig | null {
    return this.config.model.kind === 'mlp' ? this.config.model : null;
  }

  addLayer(): void {
    if (this.config.model.kind !== 'mlp') return;
    const hidden = this.config.model.hidden;
    if (hidden.length >= MAX_HIDDEN_LAYERS) return;
    const last: HiddenLayer = hidden[hidden.length - 1] ?? { units: 8, activation: 'relu' };
    hidden.push({ ...last });
  }

  removeLayer(index: number): void {
    if (this.config.model.kind === 'mlp') this.config.model.hidden.splice(index, 1);
  }

  jobName(): string {
    return defaultJobName(this.dataset?.name ?? this.datasetId, this.config);
  }

  /** The config a job is submitted with: the form's settings and plan. */
  jobConfig(): TrainConfig {
    const table = this.plan && this.dataset?.kind === 'table' ? { table: $state.snapshot(this.plan) } : {};
    return { ...$state.snapshot(this.config), ...table };
  }

  #scheduleCheck(delayMs = PLAN_CHECK_DELAY_MS): void {
    if (this.#checkTimer) clearTimeout(this.#checkTimer);
    this.checking = true;
    this.#checkTimer = setTimeout(() => void this.#runCheck(), delayMs);
  }

  async #runCheck(): Promise<void> {
    const token = ++this.#checkToken;
    const client = this.#client();
    const { dataset, plan } = this;
    if (!client || !dataset || !plan) return;
    try {
      const check = await client.checkPlan(dataset.id, $state.snapshot(plan));
      if (token === this.#checkToken) this.check = check;
    } catch (error) {
      if (token === this.#checkToken)
        this.check = { problems: [`Could not check the columns: ${error instanceof Error ? error.message : String(error)}`], rows: 0, dropped: 0, imputed: 0 };
    } finally {
      if (token === this.#checkToken) this.checking = false;
    }
  }
}

export function describeDataset(d: DatasetSummary, plan: TablePlan | null): string {
  if (d.kind === 'text') return `${d.characters.toLocaleString('en-US')} characters · ${d.vocabulary.length} distinct`;
  if (d.kind === 'images')
    return `${d.rows.toLocaleString('en-US')} images · ${d.classNames.length} classes · ${d.size} px ${d.channels === 1 ? 'grey' : 'colour'}`;
  const used = plan ? Object.values(plan.columns).filter((t) => t !== 'ignored').length : d.columns.length - 1;
  const task = plan ? (plan.task === 'classification' ? `classification of ${plan.target}` : `regression of ${plan.target}`) : '';
  return `${d.rows.toLocaleString('en-US')} rows · ${used} input columns · ${task}`;
}
