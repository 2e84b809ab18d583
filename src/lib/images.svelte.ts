// The page's side of making an image dataset: a folder (picked or dropped) imported at once, or a
// collection built class by class from picked files and camera frames (held like Teachable
// Machine's record button), then stored in one go. Files travel to the worker as File handles
// and frames as transferred bitmaps: the worker decodes, crops and resizes; the page never does.
import type { ImageSummary } from '../../shared/dataset';
import type { SkippedFile } from '../../shared/image-types';
import type { CaptureCounts, ImageFileEntry, ImageImport } from '../../shared/protocol';
import { CAPTURE_INTERVAL_MS, closeCamera, grabFrame, openCamera } from './camera';
import { entriesForClass } from './image-files';
import type { TrainerClient } from './trainer-client';

type ImagesClient = Pick<TrainerClient, 'importImages' | 'cancelImageImport' | 'captureFrame' | 'clearCapture'>;

export interface ImageClass {
  name: string;
  /** Files picked for this class (handles only). */
  files: ImageFileEntry[];
}

function message(error: unknown): string {
  if (error instanceof Error) return error.name === 'AbortError' ? 'Cancelled; nothing was stored.' : error.message || error.name;
  return String(error);
}

export class ImagesStore {
  /** While files are read and decoded by the worker: what, and how far. */
  importing: { what: string; done: number; total: number } | null = $state(null);
  error: string | null = $state(null);
  status: string | null = $state(null);
  /** Files the last import skipped (at most MAX_LISTED_SKIPPED named) and how many in all. */
  skipped: SkippedFile[] = $state.raw([]);
  skippedCount = $state(0);
  classes: ImageClass[] = $state([{ name: 'Class 1', files: [] }, { name: 'Class 2', files: [] }]);
  /** Camera frames recorded per class, as the worker counts them. */
  captured: CaptureCounts = $state.raw({});
  cameraOn = $state(false);
  cameraError: string | null = $state(null);
  /** The class being recorded while its button is held. */
  recording: string | null = $state(null);

  readonly collectionSize = $derived(this.classes.reduce((n, c) => n + c.files.length + (this.captured[c.name] ?? 0), 0));

  #client: () => ImagesClient | null;
  #onAdded: (dataset: ImageSummary) => void;
  #stream: MediaStream | null = null;
  #video: HTMLVideoElement | null = null;
  #walk: AbortController | null = null;

  constructor(client: () => ImagesClient | null, onAdded: (dataset: ImageSummary) => void) {
    this.#client = client;
    this.#onAdded = onAdded;
  }

  #need(): ImagesClient {
    const client = this.#client();
    if (!client) throw new Error('Lathe is still starting; try again in a moment.');
    return client;
  }

  /** Stores files as a dataset (the worker decodes them), with progress; resolves with the result, or null. */
  async #import(what: string, name: string, files: ImageFileEntry[], useCapture: boolean): Promise<ImageImport | null> {
    if (this.importing) {
      this.error = `${this.importing.what} is still being read; cancel it or wait for it first.`;
      return null;
    }
    this.error = null;
    this.status = null;
    this.importing = { what, done: 0, total: files.length };
    try {
      const result = await this.#need().importImages({ name, files, useCapture }, (done, total) => {
        if (this.importing) this.importing = { ...this.importing, done, total };
      });
      const d = result.dataset as ImageSummary;
      this.skipped = result.skipped;
      this.skippedCount = result.skippedCount;
      this.status = result.reused
        ? `These images are already stored as “${d.name}”; using that.`
        : `Added “${d.name}”: ${d.rows.toLocaleString('en-US')} images in ${d.classNames.length} classes${result.skippedCount ? `, ${result.skippedCount} files skipped` : ''}.`;
      this.#onAdded(d);
      return result;
    } catch (error) {
      this.error = `Could not add ${what}: ${message(error)}`;
      return null;
    } finally {
      this.importing = null;
    }
  }

  /** A folder whose subfolders are the classes (picked or dropped). */
  importFolder(files: ImageFileEntry[]): Promise<ImageImport | null> {
    const root = files[0]?.path.split('/')[0] ?? 'images';
    return this.#import(`the folder “${root}”`, root, files, false);
  }

  /** A dropped folder: its entries are walked first (cancellable), then imported. */
  async importDropped(walk: (signal: AbortSignal) => Promise<ImageFileEntry[]>): Promise<void> {
    this.#walk?.abort();
    const controller = new AbortController();
    this.#walk = controller;
    this.importing = { what: 'the dropped folder', done: 0, total: 0 };
    let files: ImageFileEntry[];
    try {
      files = await walk(controller.signal);
    } catch (error) {
      this.importing = null;
      this.error = `Could not read the dropped folder: ${message(error)}`;
      return;
    }
    this.importing = null;
    if (controller.signal.aborted) return;
    // Loose images (no folder) go to the first class of the collection, to be stored with it.
    if (files.every((f) => !f.path.includes('/')) && this.classes.length > 0) {
      this.addFiles(0, files.map((f) => f.file as File));
      return;
    }
    await this.importFolder(files);
  }

  cancel(): void {
    this.#walk?.abort();
    void this.#client()?.cancelImageImport().catch(() => undefined);
  }

  addClass(): void {
    this.classes.push({ name: `Class ${this.classes.length + 1}`, files: [] });
  }

  renameClass(index: number, name: string): void {
    const c = this.classes[index];
    if (!c || c.name === name) return;
    // Frames already recorded stay under the old name in the worker; renaming starts the class afresh.
    if (this.captured[c.name]) void this.#clear(c.name);
    c.name = name;
  }

  removeClass(index: number): void {
    const [c] = this.classes.splice(index, 1);
    if (c && this.captured[c.name]) void this.#clear(c.name);
  }

  addFiles(index: number, files: FileList | readonly File[]): void {
    const c = this.classes[index];
    if (c) c.files.push(...entriesForClass(files, c.name));
  }

  async #clear(label: string | null): Promise<void> {
    try {
      this.captured = await this.#need().clearCapture(label);
    } catch (error) {
      this.error = message(error);
    }
  }

  /** Empties the collection: picked files and recorded frames. */
  async reset(): Promise<void> {
    for (const c of this.classes) c.files = [];
    await this.#clear(null);
  }

  async startCamera(video: HTMLVideoElement): Promise<void> {
    this.cameraError = null;
    try {
      this.#stream = await openCamera(video);
      this.#video = video;
      this.cameraOn = true;
    } catch (error) {
      this.cameraError = message(error);
      this.cameraOn = false;
    }
  }

  stopCamera(): void {
    this.recording = null;
    closeCamera(this.#stream, this.#video);
    this.#stream = null;
    this.#video = null;
    this.cameraOn = false;
  }

  /** Records frames into `label` until `stopRecording` (the button is released). */
  async record(label: string): Promise<void> {
    const video = this.#video;
    if (!video || this.recording) return;
    this.recording = label;
    try {
      while (this.recording === label) {
        const started = performance.now();
        const frame = await grabFrame(video);
        if (frame) this.captured = await this.#need().captureFrame(label, frame);
        const rest = CAPTURE_INTERVAL_MS - (performance.now() - started);
        if (rest > 0) await new Promise((r) => setTimeout(r, rest));
      }
    } catch (error) {
      this.cameraError = message(error);
    } finally {
      if (this.recording === label) this.recording = null;
    }
  }

  stopRecording(): void {
    this.recording = null;
  }

  /** Stores the collection (picked files and recorded frames) as one dataset. */
  async saveCollection(name: string): Promise<void> {
    const files = this.classes.flatMap((c) => c.files.map((f) => ({ ...f, label: c.name })));
    const result = await this.#import('the collection', name.trim() || 'My images', files, true);
    if (result) {
      for (const c of this.classes) c.files = [];
      this.captured = {};
    }
  }
}
