import { currentSpanId, currentTraceId } from './spans.ts';

/** What every Orchestron service logs through (the runtime, the worker SDK and the services use this one type). */
export interface Logger {
  /** What explains normal operation in detail (a duplicate report ignored, say); off unless asked for. */
  debug?(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export interface LoggerOptions {
  readonly service: string;
  readonly instance?: string;
  /** Fields on every line, e.g. `{ worker: 'send-email' }`. */
  readonly base?: Record<string, unknown>;
  /** Receives each JSON line (no newline). Defaults to stderr, so stdout stays free for a CLI's output. */
  readonly sink?: (line: string) => void;
  /** `debug` writes debug lines too; default `info`, or ORCHESTRON_LOG_LEVEL when it is set to `debug`. */
  readonly level?: 'debug' | 'info';
}

/** The variable that turns debug lines on in every service (`ORCHESTRON_LOG_LEVEL=debug`). */
export const LOG_LEVEL_ENV = 'ORCHESTRON_LOG_LEVEL';

export const REDACTED = '[redacted]';
const RESERVED = new Set(['time', 'level', 'service', 'instance', 'msg']);
// Matched against the key lower-cased with `-` and `_` removed, at its end: `dbPassword`, `x-api-key` and
// `accessToken` are secrets, while `tokenUsage` and `maxTokens` (LLM token counts) are not.
const SECRET_SUFFIXES = [
  'authorization',
  'apikey',
  'password',
  'passwd',
  'passphrase',
  'token',
  'secret',
  'secretkey',
  'secretaccesskey',
  'privatekey',
  'cookie',
  'credentials',
  'credential',
];
const MAX_DEPTH = 8;

/** True for keys named like secrets: authorization, apiKey, password, token, secret, cookie and their variants. */
export function isSecretKey(key: string): boolean {
  const normalized = key.toLowerCase().replace(/[-_]/g, '');
  return SECRET_SUFFIXES.some((suffix) => normalized.endsWith(suffix));
}

/** A copy of `value` where every property whose key looks like a secret holds "[redacted]", at any depth. */
export function redactSecrets(value: unknown): unknown {
  return redact(value, 0, new WeakSet());
}

function redact(value: unknown, depth: number, seen: WeakSet<object>): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value)) return '[circular]';
  if (depth >= MAX_DEPTH) return '[truncated]';
  seen.add(value);
  try {
    if (value instanceof Error) return redactRecord(errorFields(value), depth, seen);
    if (Array.isArray(value)) return value.map((item) => redact(item, depth + 1, seen));
    if (ArrayBuffer.isView(value)) return `[${value.byteLength} bytes]`;
    const toJSON = (value as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function') return redact(toJSON.call(value), depth + 1, seen);
    if (value instanceof Map) return redactRecord(Object.fromEntries(value), depth, seen);
    return redactRecord(value as Record<string, unknown>, depth, seen);
  } finally {
    seen.delete(value);
  }
}

function redactRecord(record: Record<string, unknown>, depth: number, seen: WeakSet<object>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(record))
    out[key] = isSecretKey(key) ? REDACTED : redact(item, depth + 1, seen);
  return out;
}

function errorFields(error: Error): Record<string, unknown> {
  const extra = error as Error & { code?: unknown; cause?: unknown };
  return {
    name: error.name,
    message: error.message,
    ...(extra.code === undefined ? {} : { code: extra.code }),
    ...(error.stack === undefined ? {} : { stack: error.stack }),
    ...(extra.cause === undefined ? {} : { cause: extra.cause }),
  };
}

// A throwing getter or toJSON in a field must not take the caller down with it, nor lose the line.
function serialize(line: Record<string, unknown>, fields: Record<string, unknown>): string {
  try {
    const full = { ...line };
    for (const [key, value] of Object.entries(redactSecrets(fields) as Record<string, unknown>))
      full[RESERVED.has(key) ? `field.${key}` : key] = value;
    return JSON.stringify(full);
  } catch (error) {
    return JSON.stringify({
      ...line,
      logError: `fields could not be serialized: ${error instanceof Error ? error.message : String(error)}`,
    });
  }
}

/**
 * A logger writing one JSON line per call: time, level, service, instance, msg, then `traceId` and `spanId` of the
 * active span when there is one, then the fields (runId, stepId, attempt, ...) at the top level. A field named
 * like one of the first five is written as `field.<name>` so it cannot forge them; secret-looking keys are
 * redacted at any depth.
 */
export function createLogger(options: LoggerOptions): Logger {
  if (typeof options.service !== 'string' || options.service === '')
    throw new Error('createLogger: service must be a non-empty string');
  const sink = options.sink ?? toStderr;
  const debug = (options.level ?? process.env[LOG_LEVEL_ENV]) === 'debug';
  const write = (
    level: 'debug' | 'info' | 'warn' | 'error',
    message: string,
    fields?: Record<string, unknown>,
  ): void => {
    const line: Record<string, unknown> = { time: new Date().toISOString(), level, service: options.service };
    if (options.instance !== undefined) line.instance = options.instance;
    line.msg = message;
    const traceId = currentTraceId();
    if (traceId !== undefined) {
      line.traceId = traceId;
      line.spanId = currentSpanId();
    }
    sink(serialize(line, { ...options.base, ...fields }));
  };
  return {
    debug: debug ? (m, f) => write('debug', m, f) : () => undefined,
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
  };
}

let pendingLines: string[] = [];
let flushScheduled = false;

function flushStderr(): void {
  flushScheduled = false;
  if (pendingLines.length === 0) return;
  const text = pendingLines.join('');
  pendingLines = [];
  process.stderr.write(text);
}

/**
 * The default sink: stderr, one write per tick for every line of that tick (a write to a file or pipe is a
 * system call, and a service under load logs several lines per step). Lines keep their order; whatever is
 * pending when the process exits is written then.
 */
function toStderr(line: string): void {
  if (pendingLines.length === 0 && !flushScheduled) {
    flushScheduled = true;
    setImmediate(flushStderr);
  }
  pendingLines.push(`${line}\n`);
}

process.on('exit', flushStderr);
