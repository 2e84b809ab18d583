// Reads the server's configuration from the environment (documented in README.md) and says
// precisely what is wrong with a bad value. Pure apart from path resolution; node built-ins only.
import { dirname, isAbsolute, resolve } from 'node:path';

export interface TokenEntry {
  user: string;
  token: string;
}

export interface ServerConfig {
  port: number;
  host: string;
  /** A file path, or `:memory:` (nothing survives a restart). */
  dbPath: string;
  /** From LATHE_DATABASE_URL: PostgreSQL instead of the SQLite file (several instances may share it). */
  databaseUrl: string | null;
  /** The folder of the database: generated token, uploaded results. Null for `:memory:`. */
  dataDir: string | null;
  /** From LATHE_TOKENS; empty means "generate one on first start" (server/tokens.ts). */
  tokens: TokenEntry[];
  corsOrigins: string[];
  webhookUrls: string[];
  /** The decoded Standard Webhooks secret, or null when no webhook is configured. */
  webhookSecret: Buffer | null;
}

/** Shorter tokens are refused: a token is the only thing between the network and the jobs. */
export const MIN_TOKEN_CHARS = 16;
const USER_NAME = /^[A-Za-z0-9_.-]{1,64}$/;
/** Standard Webhooks secrets are 24 to 64 random bytes. */
const MIN_SECRET_BYTES = 24;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

const list = (value: string | undefined): string[] =>
  (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');

/** `LATHE_TOKENS=alice:tok1,bob:tok2`: each entry `user:token`; a user may have several tokens. */
export function parseTokens(value: string | undefined): TokenEntry[] {
  const seen = new Set<string>();
  return list(value).map((entry, i) => {
    const colon = entry.indexOf(':');
    const user = colon < 0 ? '' : entry.slice(0, colon);
    const token = colon < 0 ? '' : entry.slice(colon + 1);
    const where = `LATHE_TOKENS entry ${i + 1}`;
    if (!USER_NAME.test(user)) throw new ConfigError(`${where}: expected "user:token" with a user name of letters, digits, "_", "." or "-" (1 to 64).`);
    if (token.length < MIN_TOKEN_CHARS || /[\s,]/.test(token))
      throw new ConfigError(`${where} (user "${user}"): the token must be at least ${MIN_TOKEN_CHARS} characters, without spaces or commas.`);
    if (seen.has(token)) throw new ConfigError(`${where}: the same token is listed twice.`);
    seen.add(token);
    return { user, token };
  });
}

export function parseOrigins(value: string | undefined): string[] {
  return list(value).map((origin) => {
    let url: URL;
    try {
      url = new URL(origin);
    } catch {
      throw new ConfigError(`LATHE_CORS_ORIGINS: "${origin}" is not an origin such as https://lathe.example.org.`);
    }
    if (url.origin !== origin.replace(/\/$/, '')) throw new ConfigError(`LATHE_CORS_ORIGINS: "${origin}" must be an origin only (scheme, host, port), without a path.`);
    return url.origin;
  });
}

export function parseWebhookUrls(value: string | undefined): string[] {
  return list(value).map((u) => {
    let url: URL;
    try {
      url = new URL(u);
    } catch {
      throw new ConfigError(`LATHE_WEBHOOK_URLS: "${u}" is not a URL.`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError(`LATHE_WEBHOOK_URLS: "${u}" must be http or https.`);
    return url.href;
  });
}

/** A Standard Webhooks secret: `whsec_` followed by base64 (the prefix is optional). */
export function parseWebhookSecret(value: string | undefined): Buffer | null {
  if (value === undefined || value === '') return null;
  const b64 = value.startsWith('whsec_') ? value.slice('whsec_'.length) : value;
  const bytes = Buffer.from(b64, 'base64');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64) || bytes.length < MIN_SECRET_BYTES)
    throw new ConfigError(`LATHE_WEBHOOK_SECRET must be "whsec_" plus base64 of at least ${MIN_SECRET_BYTES} random bytes (e.g. whsec_$(openssl rand -base64 32)).`);
  return bytes;
}

/** `postgres://user:password@host:port/database`; empty means the embedded SQLite store. */
export function parseDatabaseUrl(value: string | undefined): string | null {
  if (value === undefined || value === '') return null;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError('LATHE_DATABASE_URL must be a URL such as postgres://lathe:secret@localhost:5432/lathe.');
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:')
    throw new ConfigError(`LATHE_DATABASE_URL must start with postgres:// (got "${url.protocol}//"); leave it unset for the embedded SQLite store.`);
  return value;
}

/** The URL without its password, for log lines. */
export function redactDatabaseUrl(value: string): string {
  const url = new URL(value);
  if (url.password !== '') url.password = '***';
  return url.href;
}

export function parsePort(value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(`PORT must be a whole number from 0 to 65535, not "${value}".`);
  return port;
}

/** The whole configuration; throws ConfigError naming the variable that is wrong. */
export function configFromEnv(env: NodeJS.ProcessEnv, cwd = process.cwd()): ServerConfig {
  const rawDb = env.LATHE_DB && env.LATHE_DB !== '' ? env.LATHE_DB : './data/lathe.db';
  const dbPath = rawDb === ':memory:' ? rawDb : isAbsolute(rawDb) ? rawDb : resolve(cwd, rawDb);
  const webhookUrls = parseWebhookUrls(env.LATHE_WEBHOOK_URLS);
  const webhookSecret = parseWebhookSecret(env.LATHE_WEBHOOK_SECRET);
  if (webhookUrls.length > 0 && webhookSecret === null)
    throw new ConfigError('LATHE_WEBHOOK_URLS is set but LATHE_WEBHOOK_SECRET is not: webhooks are always signed.');
  return {
    port: parsePort(env.PORT, 4173),
    host: env.HOST && env.HOST !== '' ? env.HOST : 'localhost',
    dbPath,
    databaseUrl: parseDatabaseUrl(env.LATHE_DATABASE_URL),
    dataDir: dbPath === ':memory:' ? null : dirname(dbPath),
    tokens: parseTokens(env.LATHE_TOKENS),
    corsOrigins: parseOrigins(env.LATHE_CORS_ORIGINS),
    webhookUrls,
    webhookSecret,
  };
}
