import { OrchestronError } from '@orchestron/errors';
import { quoteForMessage } from './quote.ts';

/**
 * JSON from outside the process (HTTP bodies, bus messages) is parsed here, under limits that every later
 * recursive walk (class-transformer, ajv, structuredClone, our own validators) can rely on: a bounded depth, and
 * only finite numbers (JSON.parse reads 1e309 as Infinity, which JSON.stringify then stores as null).
 */

/** How deep a JSON value may nest: far beyond any definition or input we serve, far below any stack. */
export const MAX_JSON_DEPTH = 64;
/**
 * Messages between services wrap a run's input (≤ MAX_JSON_DEPTH, checked where it came in) in an envelope, and an
 * expression may nest it a little deeper: they get twice the room, and are still far from what breaks a parser.
 */
export const MAX_MESSAGE_DEPTH = 128;

export type JsonLimit = 'syntax' | 'depth' | 'finite' | 'key' | 'keys';

/** JSON refused by `parseLimitedJson`; each edge turns it into its own error (HTTP 400, WIRE.INVALID). */
export class JsonLimitError extends OrchestronError<'JSON.INVALID'> {
  readonly limit: JsonLimit;
  declare readonly details: Readonly<Record<string, unknown>>;
  constructor(limit: JsonLimit, message: string, details: Readonly<Record<string, unknown>> = {}) {
    super('JSON.INVALID', message, { details: { limit, ...details } });
    this.name = 'JsonLimitError';
    this.limit = limit;
  }
}

export interface JsonLimits {
  /** Default MAX_JSON_DEPTH. */
  readonly maxDepth?: number;
  /**
   * Refuse `__proto__` keys and `constructor` objects with a `prototype` key, as secure-json-parse does: a value
   * merged or spread into an object later could otherwise change its prototype.
   */
  readonly forbidPrototypeKeys?: boolean;
  /** What the messages call the text: "the body", "message t/0@12"; default "the JSON". */
  readonly subject?: string;
  /**
   * Most keys one object may have (default: no limit). Listing a huge object's keys is one uninterruptible call
   * (about 80 ms for 200,000 keys), so an expression could not be stopped inside it by its budget.
   */
  readonly maxKeys?: number;
}

/** The HTTP edge's limit on keys per object: generous for data, well short of a slow `Object.keys`. */
export const MAX_OBJECT_KEYS = 10_000;

const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * Whether the JSON text nests deeper than `max`, in one pass and without parsing: brackets inside strings do not
 * count. Text that is not JSON gets an answer too; the parser that runs next reports what is wrong with it.
 */
export function nestsDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) inString = true;
    else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > max) return true;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) depth--;
  }
  return false;
}

/** JSON.parse under the limits: throws JsonLimitError naming the limit, or the path of the offending value. */
export function parseLimitedJson(text: string, limits: JsonLimits = {}): unknown {
  const maxDepth = limits.maxDepth ?? MAX_JSON_DEPTH;
  const subject = limits.subject ?? 'the JSON';
  if (nestsDeeperThan(text, maxDepth))
    throw new JsonLimitError('depth', `${subject} nests deeper than ${maxDepth} levels`, { max: maxDepth });
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    // V8 gives every position but the end's: "Unexpected end of JSON input".
    const at = /position \d+/.test(message) || !/end of JSON/.test(message) ? '' : ` at position ${text.length}`;
    throw new JsonLimitError('syntax', `${subject} is not JSON: ${message}${at}`);
  }
  checkValues(value, {
    maxDepth,
    forbidPrototypeKeys: limits.forbidPrototypeKeys === true,
    subject,
    maxKeys: limits.maxKeys ?? Infinity,
  });
  return value;
}

/**
 * A value that arrived already decoded (an in-process bus, a client library) under the same limits: throws
 * JsonLimitError for a container nested deeper than the limit (naming its path), a non-finite number, or a
 * prototype key when asked. Values that are not JSON-shaped (functions, dates) are not its concern.
 */
export function checkJsonLimits(value: unknown, limits: JsonLimits = {}): void {
  checkValues(value, {
    maxDepth: limits.maxDepth ?? MAX_JSON_DEPTH,
    forbidPrototypeKeys: limits.forbidPrototypeKeys === true,
    subject: limits.subject ?? 'the JSON',
    maxKeys: limits.maxKeys ?? Infinity,
  });
}

interface Frame {
  readonly value: unknown;
  readonly key: string | number | null;
  readonly parent: Frame | null;
  /** Of the containers it is in: the root is at 0, so an object at depth `maxDepth` is one level too deep. */
  readonly depth: number;
}

/** One walk, with its own stack, for every check after parsing; paths are built only for the value that fails. */
function checkValues(root: unknown, limits: Required<JsonLimits>): void {
  const { maxDepth, forbidPrototypeKeys, subject, maxKeys } = limits;
  const stack: Frame[] = [{ value: root, key: null, parent: null, depth: 0 }];
  while (stack.length > 0) {
    const frame = stack.pop() as Frame;
    const { value, depth } = frame;
    if (typeof value === 'number') {
      if (!Number.isFinite(value))
        throw new JsonLimitError('finite', `${jsonPath(frame)} is not a finite number`, { path: jsonPath(frame) });
      continue;
    }
    if (value === null || typeof value !== 'object') continue;
    if (depth >= maxDepth)
      throw new JsonLimitError('depth', `${subject} nests deeper than ${maxDepth} levels (at ${jsonPath(frame)})`, {
        max: maxDepth,
        path: jsonPath(frame),
      });
    if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--)
        stack.push({ value: value[i], key: i, parent: frame, depth: depth + 1 });
      continue;
    }
    const keys = Object.keys(value);
    if (keys.length > maxKeys)
      throw new JsonLimitError(
        'keys',
        `${jsonPath(frame)} has ${keys.length} keys; an object may have at most ${maxKeys}`,
        { max: maxKeys, path: jsonPath(frame) },
      );
    for (const key of keys) {
      const child = (value as Record<string, unknown>)[key];
      if (forbidPrototypeKeys) checkKey(key, child, frame);
      stack.push({ value: child, key, parent: frame, depth: depth + 1 });
    }
  }
}

function checkKey(key: string, child: unknown, frame: Frame): void {
  const isPrototypeKey =
    key === '__proto__' ||
    (key === 'constructor' && child !== null && typeof child === 'object' && Object.hasOwn(child, 'prototype'));
  if (!isPrototypeKey) return;
  const path = jsonPath({ value: child, key, parent: frame, depth: frame.depth + 1 });
  const named = key === '__proto__' ? '"__proto__"' : '"constructor.prototype"';
  throw new JsonLimitError('key', `${path}: the key ${named} is not allowed (it could change an object's prototype)`, {
    path,
    key: key === '__proto__' ? key : 'constructor.prototype',
  });
}

const PLAIN_KEY = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** `$.definition.steps["a b"][2]`: JSONPath as people write it; keys are quoted (and cut) when they need it. */
function jsonPath(frame: Frame): string {
  const parts: string[] = [];
  for (let f: Frame | null = frame; f !== null && f.key !== null; f = f.parent) {
    parts.push(
      typeof f.key === 'number'
        ? `[${f.key}]`
        : PLAIN_KEY.test(f.key) && f.key.length <= 80
          ? `.${f.key}`
          : `[${quoteForMessage(f.key)}]`,
    );
  }
  return `$${parts.reverse().join('')}`;
}
