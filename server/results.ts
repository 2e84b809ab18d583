// Uploaded results (the exported TF.js model zip) on disk: streamed to a temporary file while its
// SHA-256 and size are computed, refused past the limit or when it is not a zip, then renamed
// into place, so a reader never sees half a file. Node built-ins only.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, mkdirSync, type ReadStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/** The issue's limit for one result. */
export const MAX_RESULT_BYTES = 64 * 1024 * 1024;

/** A zip starts with a local file header, or is empty (end of central directory). */
const ZIP_MAGICS = [Buffer.from('PK\x03\x04', 'latin1'), Buffer.from('PK\x05\x06', 'latin1')];

export class ResultTooLarge extends Error {
  override name = 'ResultTooLarge';
}
export class NotAZip extends Error {
  override name = 'NotAZip';
}

export class ResultFiles {
  constructor(private readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  /** One file per user and job; the name is a digest, so no id ever becomes a path. */
  pathFor(user: string, jobId: string): string {
    return join(this.dir, `${createHash('sha256').update(`${user}\u0000${jobId}`).digest('hex')}.zip`);
  }

  async save(user: string, jobId: string, body: Readable, maxBytes = MAX_RESULT_BYTES): Promise<{ sha256: string; bytes: number }> {
    const final = this.pathFor(user, jobId);
    const temp = `${final}.${randomBytes(6).toString('hex')}.tmp`;
    const hash = createHash('sha256');
    let bytes = 0;
    let head = Buffer.alloc(0);
    try {
      await pipeline(
        body,
        async function* (source: AsyncIterable<Buffer>) {
          for await (const chunk of source) {
            bytes += chunk.length;
            if (bytes > maxBytes) throw new ResultTooLarge();
            if (head.length < 4) head = Buffer.concat([head, chunk.subarray(0, 4 - head.length)]);
            hash.update(chunk);
            yield chunk;
          }
        },
        createWriteStream(temp, { flags: 'wx' }),
      );
      if (!ZIP_MAGICS.some((m) => head.equals(m))) throw new NotAZip();
      await rename(temp, final);
      return { sha256: hash.digest('hex'), bytes };
    } catch (err) {
      await rm(temp, { force: true });
      throw err;
    }
  }

  async open(user: string, jobId: string): Promise<{ stream: ReadStream; bytes: number } | null> {
    const path = this.pathFor(user, jobId);
    try {
      const s = await stat(path);
      return { stream: createReadStream(path), bytes: s.size };
    } catch {
      return null;
    }
  }

  async remove(user: string, jobId: string): Promise<void> {
    await rm(this.pathFor(user, jobId), { force: true });
  }
}
