// Types for scripts/image-assets.mjs (used from vite.config.ts, unit tests and benches).
import type { Plugin } from 'vite';

export const MOBILENET_DIR: string;
export const MOBILENET_WEIGHTS_FILE: string;
export const DIGITS_FILE: string;
export const DIGITS_PER_CLASS: number;
export const IMAGE_FILE_MAGIC: string;
export function mobileNetFiles(): { modelJson: { modelTopology: unknown; weightsManifest: { paths: string[]; weights: unknown[] }[] }; weights: Buffer };
export function encodeImageFile(set: { size: number; channels: 1 | 3; classNames: string[]; labels: Uint16Array; pixels: Uint8Array }): Buffer;
export function digitsSampleFile(): Buffer;
export function imageAssetFiles(): Map<string, Buffer>;
export function imageAssets(): Plugin;
