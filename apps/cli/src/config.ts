import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { UsageError } from './cli.errors.ts';

export const DEFAULT_URL = 'http://127.0.0.1:3000';

export interface ClientConfig {
  readonly baseUrl: string;
  readonly apiKey: string | null;
}

type Env = Readonly<Record<string, string | undefined>>;

/** `--url` beats `$ORCHESTRON_URL`; the key comes from `$ORCHESTRON_API_KEY`, else the server's `admin.key`. */
export function resolveClientConfig(env: Env, cwd: string, urlOption: string | undefined): ClientConfig {
  const raw = urlOption ?? nonEmpty(env['ORCHESTRON_URL']) ?? DEFAULT_URL;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(
      `${urlOption === undefined ? 'ORCHESTRON_URL' : '--url'} is not a valid URL: ${JSON.stringify(raw)}`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new UsageError(`the server URL must be http(s): ${raw}`);
  return { baseUrl: url.href.replace(/\/+$/, ''), apiKey: apiKey(env, cwd) };
}

function apiKey(env: Env, cwd: string): string | null {
  const fromEnv = nonEmpty(env['ORCHESTRON_API_KEY']);
  if (fromEnv !== undefined) return fromEnv;
  // A local server writes its admin key here, so the CLI works on the same machine with no setup.
  const keyFile = resolve(cwd, nonEmpty(env['ORCHESTRON_DATA']) ?? '.orchestron', 'admin.key');
  try {
    return nonEmpty(readFileSync(keyFile, 'utf8').trim()) ?? null;
  } catch {
    return null;
  }
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}
