// Which class each picked or dropped file belongs to (the folder-to-label scheme), which files are
// images at all, and an image's size read from its header before anything is decoded. Plain
// TypeScript: the page lists what it will send, the worker applies the same rules.
import { MAX_DECODE_PIXELS, MAX_DECODE_SIDE_PX, type SkippedFile } from './image-types';

/** Extensions browsers decode with createImageBitmap. */
export const IMAGE_EXTENSIONS = ['png', 'jpg', 'jpeg', 'gif', 'webp', 'bmp', 'avif'] as const;
const IMAGE_NAME = new RegExp(`\\.(${IMAGE_EXTENSIONS.join('|')})$`, 'i');
/** Operating-system litter that is neither an image nor worth listing as skipped. */
const SYSTEM_FILE = /(^|\/)(\.[^/]*|__MACOSX|Thumbs\.db|desktop\.ini)(\/|$)/i;

export function isImageName(name: string): boolean {
  return IMAGE_NAME.test(name);
}

export function isSystemFile(path: string): boolean {
  return SYSTEM_FILE.test(path);
}

export interface LabelledPath {
  /** Index into the paths given. */
  index: number;
  /** Index into `classNames`. */
  label: number;
}

export interface FolderLabels {
  classNames: string[];
  items: LabelledPath[];
  skipped: SkippedFile[];
}

const byName = (a: string, b: string): number => a.localeCompare(b, 'en', { numeric: true, sensitivity: 'base' }) || (a < b ? -1 : a > b ? 1 : 0);

/**
 * The folder-to-label scheme. Paths are relative ("shapes/circle/a.png", from a dropped folder or
 * a directory picker's `webkitRelativePath`). When every path starts with the same folder and
 * more than one folder lies below it, that common folder is the dataset and the folders below it
 * are the classes; otherwise the first folder of each path is its class. Deeper folders belong to
 * the class above them ("circle/big/a.png" is a circle). Files outside any class folder, and files
 * that are not images, are skipped and listed; system files (".DS_Store") are ignored.
 * Classes are sorted by name, numbers in names by value ("2" before "10").
 */
export function labelsFromPaths(paths: string[]): FolderLabels {
  const parts = paths.map((p) => p.replace(/\\/g, '/').split('/').filter((s) => s !== '' && s !== '.'));
  const roots = new Set(parts.map((p) => (p.length > 1 ? p[0]! : '')));
  const below = new Set(parts.filter((p) => p.length > 2).map((p) => p[1]!));
  const depth = roots.size === 1 && !roots.has('') && below.size > 1 ? 1 : 0;
  const skipped: SkippedFile[] = [];
  const chosen: { index: number; className: string }[] = [];
  parts.forEach((p, index) => {
    const path = paths[index]!;
    if (isSystemFile(p.join('/'))) return;
    if (!isImageName(p[p.length - 1] ?? '')) skipped.push({ name: path, reason: 'not an image file (by its name)' });
    else if (p.length <= depth + 1) skipped.push({ name: path, reason: 'not inside a class folder' });
    else chosen.push({ index, className: p[depth]! });
  });
  const classNames = [...new Set(chosen.map((c) => c.className))].sort(byName);
  const index = new Map(classNames.map((c, i) => [c, i]));
  return { classNames, items: chosen.map((c) => ({ index: c.index, label: index.get(c.className)! })), skipped };
}

/** Files each given an explicit class (the "add files to a class" picker, camera captures). */
export function labelsFromAssigned(labels: string[]): { classNames: string[]; items: LabelledPath[] } {
  const classNames = [...new Set(labels.map((l) => l.trim()).filter((l) => l !== ''))].sort(byName);
  const index = new Map(classNames.map((c, i) => [c, i]));
  const items: LabelledPath[] = [];
  labels.forEach((l, i) => {
    const label = index.get(l.trim());
    if (label !== undefined) items.push({ index: i, label });
  });
  return { classNames, items };
}

export interface HeaderInfo {
  format: 'png' | 'jpeg' | 'gif' | 'webp' | 'bmp' | 'unknown';
  /** Null when the header does not say (or the format is unknown): the decoder finds out. */
  width: number | null;
  height: number | null;
}

/** An image's format and size from its first bytes (the first 64 KiB hold any JPEG's frame header in practice). */
export function readImageHeader(b: Uint8Array): HeaderInfo {
  const u16be = (i: number): number => ((b[i] ?? 0) << 8) | (b[i + 1] ?? 0);
  const u32be = (i: number): number => ((u16be(i) << 16) | u16be(i + 2)) >>> 0;
  const u16le = (i: number): number => (b[i] ?? 0) | ((b[i + 1] ?? 0) << 8);
  const u32le = (i: number): number => (u16le(i) | (u16le(i + 2) << 16)) >>> 0;
  if (b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47) return { format: 'png', width: u32be(16), height: u32be(20) };
  if (b[0] === 0x47 && b[1] === 0x49 && b[2] === 0x46) return { format: 'gif', width: u16le(6), height: u16le(8) };
  if (b[0] === 0x42 && b[1] === 0x4d) return { format: 'bmp', width: u32le(18), height: Math.abs(u32le(22) | 0) };
  if (b[0] === 0x52 && b[1] === 0x49 && b[2] === 0x46 && b[3] === 0x46 && b[8] === 0x57 && b[9] === 0x45) return { format: 'webp', width: null, height: null };
  if (b[0] === 0xff && b[1] === 0xd8) {
    // Walk the segments to the first start-of-frame marker (SOF0–SOF15 except DHT, JPG, DAC).
    let i = 2;
    while (i + 9 < b.length) {
      if (b[i] !== 0xff) return { format: 'jpeg', width: null, height: null };
      const marker = b[i + 1]!;
      if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc)
        return { format: 'jpeg', width: u16be(i + 7), height: u16be(i + 5) };
      i += 2 + u16be(i + 2);
    }
    return { format: 'jpeg', width: null, height: null };
  }
  return { format: 'unknown', width: null, height: null };
}

/** Why an image of this size is refused before decoding, or null when it may be decoded. */
export function tooLargeReason(width: number, height: number): string | null {
  if (width > MAX_DECODE_SIDE_PX || height > MAX_DECODE_SIDE_PX || width * height > MAX_DECODE_PIXELS)
    return `too large to decode (${width}×${height} px; at most ${MAX_DECODE_SIDE_PX} px a side and ${MAX_DECODE_PIXELS / 1e6} megapixels)`;
  return null;
}
