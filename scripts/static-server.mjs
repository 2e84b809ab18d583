// A small production static server for dist/: cross-origin isolation headers, MIME types, an SPA
// fallback and cache rules for hashed assets. Node built-ins only; used by start.mjs and tests.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import { extname, join, resolve, sep } from 'node:path';

export const MIME_TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.csv': 'text/csv; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
};

/** Sent with every response: cross-origin isolation (WASM threads need SharedArrayBuffer). */
export const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'X-Content-Type-Options': 'nosniff',
};

/** Vite puts content-hashed files under /assets/, so they never change under the same name. */
const IMMUTABLE = 'public, max-age=31536000, immutable';

/** Maps a URL path to a file under root, or null if it escapes root or names a dotfile. */
function resolveUnder(root, urlPath) {
  let decoded;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  if (decoded.includes('\0') || decoded.split('/').some((part) => part.startsWith('.'))) return null;
  const file = resolve(join(root, decoded));
  return file === root || file.startsWith(root + sep) ? file : null;
}

async function fileStat(path) {
  try {
    const s = await stat(path);
    return s.isFile() ? s : null;
  } catch {
    return null;
  }
}

/** Finds what to send for a path: the file, index.html for folders and SPA routes, or null. */
async function lookup(root, urlPath) {
  const file = resolveUnder(root, urlPath);
  if (file === null) return null;
  const direct = await fileStat(file);
  if (direct) return { file, stat: direct };
  const index = join(root, 'index.html');
  if (urlPath.endsWith('/')) {
    const inFolder = join(file, 'index.html');
    const s = await fileStat(inFolder);
    if (s) return { file: inFolder, stat: s };
  }
  // A path without an extension is a client-side route; a missing asset stays a 404.
  if (extname(urlPath) === '') {
    const s = await fileStat(index);
    if (s) return { file: index, stat: s };
  }
  return null;
}

function cacheControl(root, file) {
  if (file.startsWith(join(root, 'assets') + sep)) return IMMUTABLE;
  return 'no-cache';
}

/** The request handler alone, for use without opening a port. */
export function createHandler(rootDir) {
  const root = resolve(rootDir);
  return async (req, res) => {
    for (const [name, value] of Object.entries(ISOLATION_HEADERS)) res.setHeader(name, value);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('Method not allowed\n');
      return;
    }
    const urlPath = new URL(req.url ?? '/', 'http://localhost').pathname;
    const found = await lookup(root, urlPath);
    if (!found) {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-cache' });
      res.end('Not found\n');
      return;
    }
    const { file, stat: s } = found;
    const etag = `W/"${s.size.toString(16)}-${Math.floor(s.mtimeMs).toString(16)}"`;
    const headers = {
      'Content-Type': MIME_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
      'Cache-Control': cacheControl(root, file),
      'Last-Modified': s.mtime.toUTCString(),
      ETag: etag,
    };
    if (req.headers['if-none-match'] === etag) {
      res.writeHead(304, headers);
      res.end();
      return;
    }
    res.writeHead(200, { ...headers, 'Content-Length': s.size });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    createReadStream(file)
      .on('error', (err) => res.destroy(err))
      .pipe(res);
  };
}

/**
 * Serves `root` on `host:port` (port 0 picks a free one). Resolves with the listening server once
 * it accepts connections; rejects if the port is taken.
 */
export function serve({ root, port = 4173, host = 'localhost' }) {
  const handler = createHandler(root);
  const server = createServer((req, res) => {
    handler(req, res).catch((err) => {
      console.error(err);
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('Internal server error\n');
    });
  });
  return new Promise((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolvePromise(server);
    });
  });
}
