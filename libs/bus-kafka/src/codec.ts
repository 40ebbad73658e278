import { murmur2 } from '@platformatic/kafka';
import { WireFormatError } from '@orchestron/bus';
import { JsonLimitError, MAX_MESSAGE_DEPTH, parseLimitedJson } from '@orchestron/definitions';
import type { BusMessage, DeliveredMessage } from '@orchestron/bus';
import { KafkaBusError } from './errors.ts';

/** A record as it goes to, or comes from, the broker: bytes only. */
export interface RawRecord {
  readonly key: Buffer | undefined;
  readonly value: Buffer | undefined;
  readonly headers: ReadonlyMap<Buffer | string, Buffer | string | undefined>;
}

export interface OutgoingRecord {
  readonly topic: string;
  readonly partition: number;
  readonly key: Buffer;
  readonly value: Buffer;
  readonly headers: Map<Buffer, Buffer>;
}

/**
 * The partition of a key: murmur2 of its UTF-8 bytes, made positive as the Java client does, modulo the
 * partition count. The adapter sets it on every record, so the owner of a key is known without asking the broker.
 */
export function partitionForKey(key: string, partitions: number): number {
  return (murmur2(Buffer.from(key, 'utf8')) & 0x7fffffff) % partitions;
}

/** What the adapter writes to the dead-letter topic: enough to inspect and to re-publish the original bytes. */
export interface DeadLetterRecord {
  readonly reason: string;
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly group: string;
  readonly key: string;
  readonly headers: Readonly<Record<string, string>>;
  /**
   * The original value, byte for byte, in base64 (it may not be JSON: that can be why it is here); null when
   * the broker refused the letter with it (too large).
   */
  readonly original: string | null;
  readonly originalEncoding: 'base64';
}

export function encodeMessage(topic: string, message: BusMessage, partitions: number): OutgoingRecord {
  let json: string | undefined;
  try {
    json = JSON.stringify(message.value);
  } catch (error) {
    throw new KafkaBusError(
      'BUS.PUBLISH_FAILED',
      `publish to ${topic}: the value of the message keyed "${message.key}" does not encode as JSON (${error instanceof Error ? error.message : String(error)})`,
      { cause: error },
    );
  }
  // Header names are bytes on the wire too: a string name would reach the client's record writer as is.
  const headers = new Map<Buffer, Buffer>();
  for (const [name, value] of Object.entries(message.headers ?? {}))
    headers.set(Buffer.from(name, 'utf8'), Buffer.from(value, 'utf8'));
  return {
    topic,
    partition: partitionForKey(message.key, partitions),
    key: Buffer.from(message.key, 'utf8'),
    value: Buffer.from(json ?? 'null', 'utf8'),
    headers,
  };
}

export function decodeHeaders(raw: RawRecord): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of raw.headers) headers[text(name) ?? ''] = text(value) ?? '';
  return headers;
}

/**
 * The delivered message, or a WireFormatError when the value is missing, not JSON, nested deeper than `maxDepth`
 * (scanned before parsing) or holding a number JSON.parse reads as Infinity: the consumer dead-letters it with
 * that reason rather than a handler overflowing its stack on it, or storing the number as null.
 */
export function decodeMessage(
  raw: RawRecord,
  at: { readonly topic: string; readonly partition: number; readonly offset: number },
  maxDepth: number = MAX_MESSAGE_DEPTH,
): DeliveredMessage {
  const key = text(raw.key) ?? '';
  const headers = decodeHeaders(raw);
  if (raw.value === undefined || raw.value.length === 0) throw new WireFormatError(`${where(at)} has no value`);
  let value: unknown;
  try {
    value = parseLimitedJson(raw.value.toString('utf8'), { maxDepth, subject: where(at) });
  } catch (error) {
    if (!(error instanceof JsonLimitError)) throw error;
    throw new WireFormatError(error.limit === 'finite' ? `${where(at)}: ${error.message}` : error.message);
  }
  return { key, value, headers, ...at };
}

/** What a failed message looks like to `onError` when it could not even be decoded: the value as text. */
export function undecodedMessage(
  raw: RawRecord,
  at: { readonly topic: string; readonly partition: number; readonly offset: number },
): DeliveredMessage {
  return { key: text(raw.key) ?? '', value: text(raw.value) ?? null, headers: decodeHeaders(raw), ...at };
}

export function deadLetter(
  raw: RawRecord,
  at: { readonly topic: string; readonly partition: number; readonly offset: number },
  group: string,
  reason: string,
): { key: string; value: DeadLetterRecord; headers: Record<string, string> } {
  const headers = decodeHeaders(raw);
  const key = text(raw.key) ?? '';
  return {
    key,
    headers,
    value: {
      reason,
      topic: at.topic,
      partition: at.partition,
      offset: at.offset,
      group,
      key,
      headers,
      original: (raw.value ?? Buffer.alloc(0)).toString('base64'),
      originalEncoding: 'base64',
    },
  };
}

export function describeFailure(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

function where(at: { readonly topic: string; readonly partition: number; readonly offset: number }): string {
  return `message ${at.topic}/${at.partition}@${at.offset}`;
}

function text(value: Buffer | string | undefined | null): string | undefined {
  if (value === undefined || value === null) return undefined;
  return typeof value === 'string' ? value : value.toString('utf8');
}
