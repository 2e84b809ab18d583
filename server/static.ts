// Serves the built app (dist/) with @fastify/static, keeping what scripts/static-server.mjs did:
// cross-origin isolation headers on every response, our MIME table, immutable caching for
// content-hashed /assets/ and no-cache for everything else, an SPA fallback for extensionless
// paths, 404 for missing files and dotfiles, and 405 for other methods than GET and HEAD (a POST
// to /share-target is answered by the service worker; without it, the server says 405 as before).
// Imports fastify plugins and node built-ins only.
import { existsSync } from 'node:fs';
import { extname, join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

export const MIME_TYPES: Record<string, string> = {
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
export const ISOLATION_HEADERS: Record<string, string> = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'X-Content-Type-Options': 'nosniff',
};

/** Vite puts content-hashed files under /assets/, so they never change under the same name. */
export const IMMUTABLE_CACHE = 'public, max-age=31536000, immutable';

/** The URL path, decoded; null when it cannot be decoded, has a NUL or a dot-segment/dotfile. */
function safePath(url: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(new URL(url, 'http://localhost').pathname);
  } catch {
    return null;
  }
  if (decoded.includes('\0') || decoded.split('/').some((part) => part.startsWith('.'))) return null;
  return decoded;
}

function notFound(reply: FastifyReply) {
  return reply.code(404).header('Cache-Control', 'no-cache').type('text/plain; charset=utf-8').send('Not found\n');
}

/** Registers the isolation headers (on every response, API included), dist/ when `root` is given,
 * and the 404 handler: JSON under /api, the SPA fallback elsewhere. */
export async function registerStatic(app: FastifyInstance, root: string | null): Promise<void> {
  const isApi = (url: string) => url === '/api' || url.startsWith('/api/') || url.startsWith('/api?');
  app.addHook('onRequest', async (req, reply) => {
    reply.headers(ISOLATION_HEADERS);
    // As before: a path that cannot be decoded, has a NUL or a dot-segment is simply not there.
    if (!isApi(req.url) && (req.method === 'GET' || req.method === 'HEAD') && safePath(req.url) === null) return notFound(reply);
  });

  if (root !== null) {
    await app.register(fastifyStatic, {
      root,
      wildcard: true,
      // Folders without a trailing slash go to the 404 handler (the SPA fallback) as before, not a 301.
      redirect: false,
      index: ['index.html'],
      // Dotfiles are never served (static-server.mjs refused any dot-segment).
      dotfiles: 'ignore',
      serveDotFiles: false,
      cacheControl: false,
      setHeaders: (reply: FastifyReply, path: string) => {
        reply.header('Content-Type', MIME_TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream');
        reply.header('Cache-Control', path.startsWith(`${root}/assets/`) ? IMMUTABLE_CACHE : 'no-cache');
      },
    });
  }

  app.setNotFoundHandler(async (req: FastifyRequest, reply: FastifyReply) => {
    const path = safePath(req.url);
    if (isApi(req.url)) {
      return reply.code(404).send({ error: 'not_found', message: `No route ${req.method} ${path ?? 'with that path'}.` });
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return reply.code(405).header('Allow', 'GET, HEAD').type('text/plain; charset=utf-8').send('Method not allowed\n');
    }
    // A path without an extension is a client-side route; a missing asset stays a 404.
    if (root === null || path === null || extname(path) !== '' || !existsSync(join(root, 'index.html'))) return notFound(reply);
    return reply.sendFile('index.html');
  });
}
