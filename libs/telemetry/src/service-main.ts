import { parseArgs } from 'node:util';
import type { ParseArgsOptionsConfig } from 'node:util';

/*
 * The one `main` of every service (orchestrator, governance, workers, server): `--help`, a usage error that
 * exits 2, a start failure that exits 1, and shutdown on SIGINT/SIGTERM that closes what the service opened and
 * exits 0, or 1 when closing fails. A second signal exits at once, for the operator who will not wait.
 */

/** What a started service hands back: how to close it, and where to log the shutdown. */
export interface RunningService {
  close(): Promise<void>;
  readonly logger?: {
    info(message: string, fields?: Record<string, unknown>): void;
    warn(message: string, fields?: Record<string, unknown>): void;
    error(message: string, fields?: Record<string, unknown>): void;
  };
}

/** The part of `process` a main touches; tests pass a fake. */
export interface MainProcess {
  readonly argv: readonly string[];
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
  on(signal: 'SIGINT' | 'SIGTERM', listener: () => void): unknown;
  exit(code: number): void;
}

export interface ServiceMain<Values> {
  /** How the service names itself on stderr: `orchestron governance: <message>`. */
  readonly name: string;
  readonly help: string;
  /** Options besides --help/-h. Parsed strictly: an unknown option is a usage error. */
  readonly options?: ParseArgsOptionsConfig;
  /** Errors of the command line or environment: exit 2 with a pointer to --help instead of 1. */
  readonly isUsageError?: (error: unknown) => boolean;
  start(values: Values, args: readonly string[]): Promise<RunningService>;
}

export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** Runs a service's main; resolves once it is up (or has answered --help, or failed and exited). */
export async function runServiceMain<Values = Record<string, unknown>>(
  main: ServiceMain<Values>,
  proc: MainProcess = process,
): Promise<void> {
  const args = proc.argv.slice(2);
  const fail = (error: unknown, code: number): void => {
    proc.stderr.write(`${main.name}: ${error instanceof Error ? error.message : String(error)}\n`);
    if (code === EXIT.usage) proc.stderr.write('Run with --help for usage.\n');
    proc.exit(code);
  };
  let values: Values & { help?: boolean };
  try {
    ({ values } = parseArgs({
      args: [...args],
      options: { ...main.options, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: false,
    }) as unknown as { values: Values & { help?: boolean } });
  } catch (error) {
    return fail(error, EXIT.usage);
  }
  if (values.help) {
    proc.stdout.write(main.help);
    return;
  }
  let service: RunningService;
  try {
    service = await main.start(values, args);
  } catch (error) {
    return fail(error, main.isUsageError?.(error) ? EXIT.usage : EXIT.failed);
  }
  let closing = false;
  const shutdown = (signal: string): void => {
    if (closing) {
      service.logger?.warn('second signal: exiting without waiting', { signal });
      proc.exit(EXIT.failed);
      return;
    }
    closing = true;
    service.logger?.info('shutting down', { signal });
    void service.close().then(
      () => proc.exit(EXIT.ok),
      (error: unknown) => {
        service.logger?.error('shutdown failed', { error: error instanceof Error ? error.message : String(error) });
        proc.exit(EXIT.failed);
      },
    );
  };
  proc.on('SIGINT', () => shutdown('SIGINT'));
  proc.on('SIGTERM', () => shutdown('SIGTERM'));
}
