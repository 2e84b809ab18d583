// Camera frames recorded per class, held in worker memory (already cropped and resized) until the
// user turns them into a dataset. Bounded, so holding a button for minutes cannot exhaust memory.
import { STORED_IMAGE_PX } from '../../shared/image-types';

/** At most this many frames are kept over all classes (about 110 MB at 96 px RGB). */
export const MAX_CAPTURED_FRAMES = 4000;

export class CaptureBuffer {
  #frames = new Map<string, Uint8Array[]>();
  readonly size = STORED_IMAGE_PX;
  readonly channels = 3 as const;

  get total(): number {
    let n = 0;
    for (const f of this.#frames.values()) n += f.length;
    return n;
  }

  /** Adds one frame to a class; false when the buffer is full. */
  add(label: string, pixels: Uint8Array): boolean {
    if (this.total >= MAX_CAPTURED_FRAMES) return false;
    const list = this.#frames.get(label) ?? [];
    list.push(pixels);
    this.#frames.set(label, list);
    return true;
  }

  counts(): Record<string, number> {
    return Object.fromEntries([...this.#frames].map(([label, f]) => [label, f.length]));
  }

  /** Forgets one class's frames, or all. */
  clear(label: string | null): void {
    if (label === null) this.#frames.clear();
    else this.#frames.delete(label);
  }

  entries(): [string, Uint8Array[]][] {
    return [...this.#frames].filter(([, f]) => f.length > 0);
  }
}
