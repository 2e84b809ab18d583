// The page's text state: adding a text (a .txt file or pasted text, read and checked in the
// worker), and one generation panel's request, its streamed output, Stop, and the model's
// next-character distribution. Components render it; every worker call goes through TrainerClient.
import type { DatasetSummary } from '../../shared/dataset';
import { DEFAULT_GENERATE, validateGenerateRequest, type GenerateRequest, type GenerateResult, type NextCharacters } from '../../shared/text-generation';
import type { InputFile } from '../../shared/package-format';
import type { TrainerClient } from './trainer-client';

type TextClient = Pick<TrainerClient, 'importText' | 'generateText' | 'generateImportedText' | 'stopGeneration' | 'nextCharacters'>;

/** What writes the text: a job (live, checkpoint or initial weights), or an imported model's files. */
export type GenerationTarget = { jobId: string } | { files: () => Promise<InputFile[]> };

/** Most likely next characters listed under the output. */
export const LISTED_NEXT_CHARACTERS = 5;

export class TextInputState {
  pasted = $state('');
  pastedName = $state('');
  busy = $state(false);
  error: string | null = $state(null);
  #client: () => TextClient | null;
  #onAdded: (dataset: DatasetSummary) => void;

  constructor(client: () => TextClient | null, onAdded: (dataset: DatasetSummary) => void) {
    this.#client = client;
    this.#onAdded = onAdded;
  }

  addFile(file: File): Promise<void> {
    return this.#add({ file });
  }

  addPasted(): Promise<void> {
    return this.#add({ text: this.pasted, name: this.pastedName.trim() || 'Pasted text' });
  }

  async #add(input: { file: Blob } | { text: string; name: string }): Promise<void> {
    const client = this.#client();
    if (!client) return;
    this.busy = true;
    this.error = null;
    try {
      const { dataset } = await client.importText(input);
      this.pasted = '';
      this.#onAdded(dataset);
    } catch (err) {
      this.error = err instanceof Error ? err.message : String(err);
    } finally {
      this.busy = false;
    }
  }
}

export class GenerationState {
  request: GenerateRequest = $state({ ...DEFAULT_GENERATE });
  /** The prompt and the characters written so far (replaced as they stream). */
  output = $state('');
  running = $state(false);
  result: GenerateResult | null = $state.raw(null);
  next: NextCharacters | null = $state.raw(null);
  /** The prompt `next` is for. */
  nextPrompt = $state('');
  error: string | null = $state(null);
  /** Generations started, and finished (with their next-character list): tests wait on these. */
  runs = $state(0);
  done = $state(0);
  readonly problems: string[] = $derived(validateGenerateRequest(this.request));
  #client: () => TextClient | null;
  #target: GenerationTarget;

  constructor(client: () => TextClient | null, target: GenerationTarget) {
    this.#client = client;
    this.#target = target;
  }

  async generate(): Promise<void> {
    const client = this.#client();
    if (!client || this.running || this.problems.length > 0) return;
    const request = $state.snapshot(this.request);
    const run = ++this.runs;
    this.running = true;
    this.error = null;
    this.result = null;
    this.next = null;
    let written = '';
    this.output = '';
    try {
      // Characters arrive one message each; the text is reassigned, never a deep proxy pushed into.
      const onChars = (c: string): void => {
        written += c;
        this.output = written;
      };
      const target = this.#target;
      this.result = 'jobId' in target
        ? await client.generateText(target.jobId, request, onChars)
        : await client.generateImportedText(await target.files(), request, onChars);
      this.output = this.result.text;
      if ('jobId' in target) this.next = await client.nextCharacters(target.jobId, request.prompt);
      this.nextPrompt = request.prompt;
    } catch (err) {
      this.error = err instanceof Error ? err.message : String(err);
    } finally {
      this.running = false;
      this.done = run;
    }
  }

  async stop(): Promise<void> {
    await this.#client()?.stopGeneration();
  }

  /** The most likely next characters after the prompt, with their probabilities. */
  get topNext(): { char: string; p: number }[] {
    const n = this.next;
    if (!n) return [];
    return n.characters
      .map((char, i) => ({ char, p: n.probabilities[i]! }))
      .sort((a, b) => b.p - a.p)
      .slice(0, LISTED_NEXT_CHARACTERS);
  }
}
