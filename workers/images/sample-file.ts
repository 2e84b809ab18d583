// Lathe's compact image file (the digits sample, made by scripts/image-assets.mjs): "LTHI", a
// little-endian u32 header length, a JSON header, then the zlib-deflated class labels (u16 each) and
// pixels (u8). Read here into an ImageSet; any damage is an error naming the file.
import { unzlibSync } from 'fflate';
import type { ImageSet } from '../../shared/image-types';

const MAGIC = 'LTHI';

interface Header {
  version: number;
  count: number;
  size: number;
  channels: 1 | 3;
  classNames: string[];
}

export function readImageFile(name: string, bytes: Uint8Array): ImageSet {
  const bad = (why: string): Error => new Error(`${name} is not a Lathe image file: ${why}.`);
  if (new TextDecoder().decode(bytes.subarray(0, 4)) !== MAGIC) throw bad('it does not start with LTHI');
  const length = new DataView(bytes.buffer, bytes.byteOffset + 4, 4).getUint32(0, true);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + length))) as Header;
  if (header.version !== 1) throw bad(`its version ${header.version} is newer than this Lathe reads`);
  const body = unzlibSync(bytes.subarray(8 + length));
  const labelBytes = header.count * 2;
  const pixelBytes = header.count * header.size * header.size * header.channels;
  if (body.byteLength !== labelBytes + pixelBytes) throw bad(`it holds ${body.byteLength} bytes of data, not ${labelBytes + pixelBytes}`);
  const labels = new Uint16Array(body.buffer.slice(body.byteOffset, body.byteOffset + labelBytes));
  const pixels = body.slice(labelBytes);
  if (labels.some((l) => l >= header.classNames.length)) throw bad('a label is not one of its classes');
  const names = Array.from(labels, (l, i) => `${header.classNames[l]}/${i + 1}`);
  return { size: header.size, channels: header.channels, pixels, labels, classNames: [...header.classNames], names };
}
