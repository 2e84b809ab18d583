// API tokens: the generated first-start token, and the lookup from a request's bearer token to
// its user. Imports node built-ins and config types only.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseTokens, type TokenEntry } from './config';

/** Where the generated token lives, beside the database; the same `user:token` format as LATHE_TOKENS. */
export const TOKEN_FILE = 'tokens';
/** The user a generated token belongs to. */
export const DEFAULT_USER = 'default';
/** 32 random bytes, base64url: 43 characters. */
const GENERATED_TOKEN_BYTES = 32;

const digest = (token: string) => createHash('sha256').update(token).digest('base64url');

/**
 * The tokens to accept: LATHE_TOKENS when set; otherwise the token file in the data folder,
 * created with a fresh token on the first start, which is printed once (never again).
 */
export function resolveTokens(configured: TokenEntry[], dataDir: string | null, print: (line: string) => void): TokenEntry[] {
  if (configured.length > 0) return configured;
  const fresh = () => ({ user: DEFAULT_USER, token: randomBytes(GENERATED_TOKEN_BYTES).toString('base64url') });
  if (dataDir === null) {
    const entry = fresh();
    print(`No LATHE_TOKENS and an in-memory database: this run's API token (user "${entry.user}") is ${entry.token}`);
    return [entry];
  }
  const file = join(dataDir, TOKEN_FILE);
  if (existsSync(file)) return parseTokens(readFileSync(file, 'utf8').trim());
  const entry = fresh();
  mkdirSync(dataDir, { recursive: true });
  // wx: never overwrite a token file another process wrote in the meantime; 0600: owner only.
  writeFileSync(file, `${entry.user}:${entry.token}\n`, { mode: 0o600, flag: 'wx' });
  print(`Generated an API token for user "${entry.user}" (stored in ${file}; shown only this once): ${entry.token}`);
  return [entry];
}

/** Maps bearer tokens to users. Keys are SHA-256 digests, so the plain tokens are not kept around. */
export class TokenTable {
  readonly #users = new Map<string, string>();

  constructor(entries: readonly TokenEntry[]) {
    for (const { user, token } of entries) this.#users.set(digest(token), user);
  }

  /** The user of an `Authorization` header value, or null when it is missing, malformed or unknown. */
  userFor(header: string | undefined): string | null {
    if (header === undefined) return null;
    const match = /^Bearer ([\x21-\x7e]{1,512})$/i.exec(header.trim());
    if (!match) return null;
    return this.#users.get(digest(match[1]!)) ?? null;
  }
}
