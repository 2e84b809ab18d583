// Turns image files and camera frames into stored pixels, in the worker: decoded with
// createImageBitmap, center-cropped to a square and resized on an OffscreenCanvas. Behind a small
// interface, because Node (unit tests) has neither: tests hand in a decoder of their own.
import { centerCrop, fromRgba } from '../../shared/image-math';
import { tooLargeReason } from '../../shared/image-labels';

/** A file that cannot become an image; the message says why, in words shown beside its name. */
export class DecodeError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'DecodeError';
  }
}

export interface ImageDecoder {
  /** An encoded image (PNG, JPEG …), center-cropped and resized to `size`² px. Throws DecodeError. */
  decodeFile(file: Blob, size: number, channels: 1 | 3): Promise<Uint8Array>;
  /** A camera frame (an ImageBitmap in browsers; it is closed), the same way. */
  decodeFrame(frame: unknown, size: number, channels: 1 | 3): Promise<Uint8Array>;
}

function draw(bitmap: ImageBitmap, size: number, channels: 1 | 3): Uint8Array {
  try {
    const tooLarge = tooLargeReason(bitmap.width, bitmap.height);
    if (tooLarge) throw new DecodeError(tooLarge);
    const { sx, sy, sw, sh } = centerCrop(bitmap.width, bitmap.height);
    const canvas = new OffscreenCanvas(size, size);
    const ctx = canvas.getContext('2d', { willReadFrequently: true });
    if (!ctx) throw new DecodeError('could not be drawn (this browser has no 2D canvas in workers)');
    // Transparent areas become white, as they look on a page.
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, size, size);
    ctx.imageSmoothingEnabled = true;
    ctx.imageSmoothingQuality = 'high';
    ctx.drawImage(bitmap, sx, sy, sw, sh, 0, 0, size, size);
    return fromRgba(ctx.getImageData(0, 0, size, size).data, channels);
  } finally {
    bitmap.close();
  }
}

export const browserDecoder: ImageDecoder = {
  async decodeFile(file, size, channels) {
    let bitmap: ImageBitmap;
    try {
      bitmap = await createImageBitmap(file);
    } catch {
      throw new DecodeError('could not be decoded (not an image, damaged, or a format this browser cannot read)');
    }
    return draw(bitmap, size, channels);
  },
  async decodeFrame(frame, size, channels) {
    if (typeof ImageBitmap === 'undefined' || !(frame instanceof ImageBitmap)) {
      if (frame instanceof Blob) return browserDecoder.decodeFile(frame, size, channels);
      throw new DecodeError('is not a camera frame');
    }
    return draw(frame, size, channels);
  },
};
