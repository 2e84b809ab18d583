// The browser's side of export, import and share: downloads through `<a download>`, reading picked
// or dropped files, the share target's Cache Storage hand-off, the file handlers' launch queue,
// the Web Share API and the clipboard. DOM only; the decisions live in transfer.svelte.ts.
import type { ExportedFile, InputFile } from '../../shared/package-format';
import { SHARED_FILES_CACHE, sharedFileName } from './transfer-text';

/** A Blob URL stays alive this long after its download starts; in ms. */
const REVOKE_AFTER_MS = 60_000;
/** Browsers may drop a burst of downloads; this spaces several apart; in ms. */
const DOWNLOAD_GAP_MS = 300;

export function toFile(file: ExportedFile): File {
  // Copied into a plain ArrayBuffer: a Blob may not be built from a view on a shared buffer.
  return new File([file.bytes.slice()], file.name, { type: file.type });
}

/** Starts one download per file, in order. */
export async function download(files: ExportedFile[]): Promise<void> {
  for (let i = 0; i < files.length; i++) {
    if (i > 0) await new Promise((r) => setTimeout(r, DOWNLOAD_GAP_MS));
    const url = URL.createObjectURL(toFile(files[i]!));
    const a = document.createElement('a');
    a.href = url;
    a.download = files[i]!.name;
    a.style.display = 'none';
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), REVOKE_AFTER_MS);
  }
}

/** Reads every file into its own buffer, so each can be transferred to the worker. */
export function readFiles(files: readonly File[]): Promise<InputFile[]> {
  return Promise.all(files.map(async (f) => ({ name: f.name, bytes: new Uint8Array(await f.arrayBuffer()) })));
}

/** Every file the share target's service worker stored, removed from the cache as it is read. */
export async function takeSharedFiles(): Promise<File[]> {
  if (typeof caches === 'undefined') return [];
  const cache = await caches.open(SHARED_FILES_CACHE);
  const files: File[] = [];
  const requests = await cache.keys();
  for (let i = 0; i < requests.length; i++) {
    const response = await cache.match(requests[i]!);
    if (response) {
      const blob = await response.blob();
      const type = response.headers.get('Content-Type') ?? blob.type;
      files.push(new File([blob], sharedFileName(response.headers.get('X-File-Name'), i), { type }));
    }
    await cache.delete(requests[i]!);
  }
  return files;
}

/** The File Handling API's launch queue (Chromium, installed app only). */
interface LaunchParams {
  files?: readonly FileSystemFileHandle[];
}
interface LaunchQueue {
  setConsumer(consumer: (params: LaunchParams) => void): void;
}

/** Calls `onFiles` with the files the app was opened with, if it ever is. */
export function onLaunchFiles(onFiles: (files: File[]) => void, onError: (error: unknown) => void): void {
  const queue = (window as Window & { launchQueue?: LaunchQueue }).launchQueue;
  queue?.setConsumer((params) => {
    const handles = params.files ?? [];
    if (handles.length === 0) return;
    void Promise.all(handles.map((h) => h.getFile())).then(onFiles, onError);
  });
}

export type ShareOutcome = 'shared' | 'cancelled' | 'unsupported';

/** Shares through the Web Share API when the browser accepts these files; never throws for "cannot". */
export async function shareFiles(files: File[], title: string, text: string): Promise<ShareOutcome> {
  const data: ShareData = { files, title, text };
  if (typeof navigator.share !== 'function' || !navigator.canShare?.(data)) return 'unsupported';
  try {
    await navigator.share(data);
    return 'shared';
  } catch (error) {
    if (error instanceof DOMException && error.name === 'AbortError') return 'cancelled';
    // NotAllowedError (no user activation left), DataError, TypeError: offer the fallback.
    return 'unsupported';
  }
}

export async function copyText(text: string): Promise<void> {
  if (!navigator.clipboard?.writeText) throw new Error('this browser gives no access to the clipboard');
  await navigator.clipboard.writeText(text);
}
