import { createApiClient } from './api.client.ts';
import { resolveClientConfig } from './config.ts';
import type { ApiClient, FetchLike } from './api.client.ts';
import type { Outcome } from './exit-codes.ts';
import type { Io } from './output.ts';
import type { Command } from 'commander';

/** What the outside world gives the CLI; `main.ts` passes the real process, tests pass fakes. */
export interface CliDeps {
  readonly io: Io;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  readonly fetch: FetchLike;
  readonly sleep: (ms: number) => Promise<void>;
  readonly now: () => number;
}

/** What every command handler gets: the dependencies, a client for the global `--url`, and where to report its outcome. */
export interface CliContext extends CliDeps {
  client(command: Command): ApiClient;
  finish(outcome: Outcome): void;
}

export function createContext(deps: CliDeps, onOutcome: (outcome: Outcome) => void): CliContext {
  return {
    ...deps,
    client(command) {
      const { url } = command.optsWithGlobals<{ url?: string }>();
      return createApiClient(resolveClientConfig(deps.env, deps.cwd, url), deps.fetch);
    },
    finish: onOutcome,
  };
}
