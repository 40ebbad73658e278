import {
  ApiError,
  isCliError,
  KafkaUnreachableError,
  LocalDefinitionError,
  ServerUnreachableError,
  WaitTimeoutError,
} from './cli.errors.ts';
import type { Issue } from './api.types.ts';

/** Where a command writes. Injected so commands can be run in-process by tests. */
export interface Io {
  out(line: string): void;
  err(line: string): void;
  /** Colour only on a terminal and when NO_COLOR is unset. */
  readonly colour: boolean;
}

export interface Paint {
  green(s: string): string;
  red(s: string): string;
  yellow(s: string): string;
  cyan(s: string): string;
  magenta(s: string): string;
  dim(s: string): string;
  bold(s: string): string;
}

export function paint(colour: boolean): Paint {
  const wrap = (open: number, close: number) => (s: string) => (colour ? `\u001b[${open}m${s}\u001b[${close}m` : s);
  return {
    green: wrap(32, 39),
    red: wrap(31, 39),
    yellow: wrap(33, 39),
    cyan: wrap(36, 39),
    magenta: wrap(35, 39),
    dim: wrap(2, 22),
    bold: wrap(1, 22),
  };
}

/** One line of JSON: `--json` output is line-oriented so the last line is always the answer. */
export function printJson(io: Io, value: unknown): void {
  io.out(JSON.stringify(value));
}

export function issueLines(issues: readonly Issue[]): string[] {
  return issues.map((i) => `  ${i.path || '/'}: ${i.message}`);
}

/** Human errors go to stderr; with `--json` the error object is the last line on stdout. */
export function printError(io: Io, error: unknown, json: boolean): void {
  if (json) {
    printJson(io, { error: errorJson(error) });
    return;
  }
  const p = paint(io.colour);
  for (const line of errorLines(error)) io.err(line);
  if (!isCliError(error) && error instanceof Error) io.err(p.dim(error.stack ?? ''));
}

function errorLines(error: unknown): string[] {
  if (error instanceof ApiError) {
    const where =
      error.httpStatus >= 500
        ? ` (the server at ${error.url} failed; is it healthy? \`npm start\` runs one locally)`
        : '';
    // The server's message may already list the issues; print them once, from the structured list.
    const message = error.issues.length > 0 ? (error.message.split('\n')[0] ?? error.message) : error.message;
    return [`error: ${error.code}: ${message}${where}`, ...issueLines(error.issues)];
  }
  if (error instanceof LocalDefinitionError)
    return [`error: ${error.code}: ${error.message}:`, ...issueLines(error.issues)];
  if (isCliError(error)) return [`error: ${error.message}`];
  return [`internal error: ${error instanceof Error ? error.message : String(error)}`];
}

function errorJson(error: unknown): Record<string, unknown> {
  if (error instanceof ApiError) {
    return {
      code: error.code,
      message: error.message,
      retryable: error.retryable,
      httpStatus: error.httpStatus,
      ...(error.details ? { details: error.details } : {}),
    };
  }
  if (error instanceof LocalDefinitionError)
    return { code: error.code, message: error.message, retryable: false, details: { issues: error.issues } };
  if (error instanceof ServerUnreachableError)
    return { code: error.code, message: error.message, retryable: true, details: { url: error.baseUrl } };
  if (error instanceof KafkaUnreachableError)
    return { code: error.code, message: error.message, retryable: true, details: { brokers: error.brokers } };
  if (error instanceof WaitTimeoutError)
    return {
      code: error.code,
      message: error.message,
      retryable: true,
      details: { runId: error.runId, status: error.status },
    };
  if (isCliError(error)) return { code: error.code, message: error.message, retryable: error.retryable };
  return { code: 'CLI.INTERNAL', message: error instanceof Error ? error.message : String(error), retryable: false };
}
