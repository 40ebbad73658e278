import { randomUUID } from 'node:crypto';
import {
  BACKWARDS,
  END,
  excludeSystemEvents,
  FORWARDS,
  jsonEvent,
  KurrentDBClient,
  START,
  streamNameFilter,
} from '@kurrent/kurrentdb-client';
import type {
  AllStreamResolvedEvent,
  Filter,
  JSONType,
  ReadStreamOptions,
  ResolvedEvent,
} from '@kurrent/kurrentdb-client';
import { EventStoreClosedError, ExpectedVersionConflictError } from '@orchestron/event-store';
import type {
  EventHandler,
  EventStore,
  ExpectedRevision,
  RecordedEvent,
  SubscribeToAllOptions,
  Subscription,
} from '@orchestron/event-store';
import {
  assertStreamId,
  isExpectedRevisionSatisfied,
  normalizeReadAllOptions,
  normalizeReadStreamOptions,
  prepareAppend,
} from '@orchestron/event-store/adapter';
import type { PreparedAppend } from '@orchestron/event-store/adapter';
import {
  fromKurrentMetadata,
  fromKurrentRevision,
  isStreamNotFound,
  isSystemEvent,
  positionToNumber,
  readPositionAfter,
  toKurrentEventId,
  toKurrentMetadata,
  toKurrentStreamState,
  translateKurrentError,
} from './kurrentdb-mapping.ts';

export interface KurrentDbEventStoreOptions {
  /** e.g. kurrentdb://127.0.0.1:2113?tls=false */
  readonly connectionString: string;
  /** Assigns ids to events appended without one. Defaults to a random UUID, which KurrentDB takes as is. */
  readonly ids?: () => string;
  /** Only a fallback for recordedAt: KurrentDB stamps each event's `created` itself, and that is what is reported. */
  readonly now?: () => Date;
  /**
   * Prefixes every stream name, and limits readAll/subscribeToAll to streams with that prefix: several stores
   * (the conformance tests, tenants) can share one server without seeing each other. Must not start with '$'.
   */
  readonly streamPrefix?: string;
}

/**
 * The EventStore port on KurrentDB (EventStoreDB). Positions are KurrentDB commit positions: strictly increasing,
 * not dense (see kurrentdb-mapping.ts and docs/kurrentdb.md). Connecting is lazy: an unreachable server shows up as
 * EventStoreUnavailableError on the first call.
 */
export function createKurrentDbEventStore(options: KurrentDbEventStoreOptions): EventStore {
  const prefix = options.streamPrefix ?? '';
  if (prefix.startsWith('$'))
    throw new TypeError("streamPrefix must not start with '$' (KurrentDB reserves it for system streams)");
  let client: KurrentDBClient;
  try {
    client = KurrentDBClient.connectionString(options.connectionString);
  } catch (error) {
    throw new TypeError(`connectionString is not a valid KurrentDB connection string: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const newId = options.ids ?? randomUUID;
  const now = options.now ?? (() => new Date());
  const filter: Filter = prefix === '' ? excludeSystemEvents() : streamNameFilter({ prefixes: [prefix] });
  const subscriptions = new Set<KurrentSubscription>();
  let closed = false;

  const streamName = (streamId: string): string => {
    if (streamId.startsWith('$'))
      throw new TypeError("streamId must not start with '$' (KurrentDB reserves it for system streams)");
    return prefix + streamId;
  };

  function assertOpen(): void {
    if (closed) throw new EventStoreClosedError();
  }

  /** The port's view of one KurrentDB event, or undefined for what the port never shows (system events, foreign streams). */
  function toRecorded(resolved: ResolvedEvent | AllStreamResolvedEvent): RecordedEvent | undefined {
    const event = resolved.event;
    if (event === undefined || isSystemEvent(event.streamId, event.type) || !event.streamId.startsWith(prefix))
      return undefined;
    const { id, metadata } = fromKurrentMetadata(event.id, event.metadata);
    const created = event.created instanceof Date && !Number.isNaN(event.created.getTime()) ? event.created : now();
    return {
      id,
      streamId: event.streamId.slice(prefix.length),
      revision: fromKurrentRevision(event.revision),
      position: positionToNumber(event.position, `event ${event.id} of stream '${event.streamId}'`),
      type: event.type,
      data: event.isJson ? (event.data as unknown) : null,
      metadata,
      recordedAt: created.toISOString(),
    };
  }

  async function lastEvent(name: string): Promise<RecordedEvent | null> {
    try {
      for await (const resolved of client.readStream(name, { direction: BACKWARDS, fromRevision: END, maxCount: 1 })) {
        const event = toRecorded(resolved);
        if (event !== undefined) return event;
      }
      return null;
    } catch (error) {
      if (isStreamNotFound(error)) return null;
      throw error;
    }
  }

  /** Nothing to write: check the expected revision against the stream's last event, as the port asks. */
  async function emptyAppend(
    prepared: PreparedAppend,
    name: string,
  ): Promise<{ nextExpectedRevision: number; position: number }> {
    const last = await lastEvent(name);
    const actual = last?.revision ?? null;
    if (!isExpectedRevisionSatisfied(prepared.expectedRevision, actual)) {
      throw new ExpectedVersionConflictError(prepared.streamId, prepared.expectedRevision, actual);
    }
    return { nextExpectedRevision: actual ?? -1, position: last?.position ?? 0 };
  }

  return {
    async append(streamId, events, appendOptions) {
      assertOpen();
      const prepared = prepareAppend(streamId, events, appendOptions, newId);
      const name = streamName(prepared.streamId);
      const expected: ExpectedRevision = prepared.expectedRevision;
      const conflict = { streamId: prepared.streamId, expected };
      try {
        if (prepared.events.length === 0) return await emptyAppend(prepared, name);
        const toWrite = prepared.events.map((event, index) => {
          if (event.type.startsWith('$'))
            throw new TypeError(
              `events[${index}].type must not start with '$' (KurrentDB reserves it for system events)`,
            );
          const { uuid, original } = toKurrentEventId(event.id);
          const metadata = toKurrentMetadata(
            JSON.parse(event.metadataJson) as Record<string, unknown>,
            original,
            `events[${index}]`,
          );
          return jsonEvent({ id: uuid, type: event.type, data: JSON.parse(event.dataJson) as JSONType, metadata });
        });
        const result = await client.appendToStream(name, toWrite, { streamState: toKurrentStreamState(expected) });
        return {
          nextExpectedRevision: fromKurrentRevision(result.nextExpectedRevision),
          position: positionToNumber(result.position, `the append to '${prepared.streamId}'`),
        };
      } catch (error) {
        if (error instanceof TypeError) throw error;
        throw translateKurrentError(error, `append to stream '${prepared.streamId}'`, conflict);
      }
    },

    async readStream(streamId, readOptions) {
      assertOpen();
      const { fromRevision, direction, maxCount } = normalizeReadStreamOptions(streamId, readOptions);
      const name = streamName(streamId as string);
      if (maxCount === 0) return [];
      const read: ReadStreamOptions = {
        direction: direction === 'backwards' ? BACKWARDS : FORWARDS,
        fromRevision: fromRevision === undefined ? (direction === 'backwards' ? END : START) : BigInt(fromRevision),
        ...(maxCount === undefined ? {} : { maxCount }),
      };
      const result: RecordedEvent[] = [];
      try {
        for await (const resolved of client.readStream(name, read)) {
          const event = toRecorded(resolved);
          if (event !== undefined) result.push(event);
        }
      } catch (error) {
        if (isStreamNotFound(error)) return [];
        throw translateKurrentError(error, `read stream '${String(streamId)}'`);
      }
      return result;
    },

    async readAll(readOptions) {
      assertOpen();
      const { after, maxCount } = normalizeReadAllOptions(readOptions);
      if (maxCount === 0) return [];
      const result: RecordedEvent[] = [];
      try {
        // No maxCount to the server: with a filter it may count scanned rather than matching events. We stop early instead.
        for await (const resolved of client.readAll({ fromPosition: readPositionAfter(after), filter })) {
          const event = toRecorded(resolved);
          if (event === undefined || event.position <= after) continue;
          assertAfter(event, result.at(-1)?.position ?? after);
          result.push(event);
          if (maxCount !== undefined && result.length >= maxCount) break;
        }
      } catch (error) {
        throw translateKurrentError(error, 'read $all');
      }
      return result;
    },

    async streamRevision(streamId) {
      assertOpen();
      assertStreamId(streamId);
      try {
        return (await lastEvent(streamName(streamId)))?.revision ?? null;
      } catch (error) {
        throw translateKurrentError(error, `read the revision of stream '${streamId}'`);
      }
    },

    subscribeToAll(subscribeOptions, handler) {
      assertOpen();
      const { after, onError } = checkSubscribeArguments(subscribeOptions, handler);
      const subscription = new KurrentSubscription({
        start: () => client.subscribeToAll({ fromPosition: readPositionAfter(after), filter }),
        after,
        handler,
        onError,
        toRecorded,
        detach: () => subscriptions.delete(subscription),
      });
      subscriptions.add(subscription);
      subscription.run();
      return subscription;
    },

    async close() {
      if (closed) return;
      closed = true;
      await Promise.all([...subscriptions].map((subscription) => subscription.close()));
      await client.dispose().catch(() => undefined);
    },
  };
}

/** Guards the position mapping: were two events ever to share a commit position, fail rather than lose or repeat one. */
function assertAfter(event: RecordedEvent, previous: number): void {
  if (event.position <= previous) {
    throw translateKurrentError(
      new Error(
        `commit position ${event.position} of '${event.streamId}'@${event.revision} does not follow ${previous}`,
      ),
      'keep commit positions strictly increasing',
    );
  }
}

function checkSubscribeArguments(
  options: SubscribeToAllOptions,
  handler: EventHandler,
): { after: number; onError: ((error: unknown) => void) | undefined } {
  if (typeof options !== 'object' || options === null || Array.isArray(options))
    throw new TypeError('options must be an object');
  if (typeof handler !== 'function') throw new TypeError('handler must be a function');
  const { after = 0, onError } = options;
  if (typeof after !== 'number' || !Number.isSafeInteger(after) || after < 0)
    throw new TypeError('after must be a non-negative integer');
  if (onError !== undefined && typeof onError !== 'function') throw new TypeError('onError must be a function');
  return { after, onError };
}

interface KurrentSubscriptionParams {
  readonly start: () => AsyncIterable<AllStreamResolvedEvent> & { unsubscribe(): Promise<void> };
  readonly after: number;
  readonly handler: EventHandler;
  readonly onError: ((error: unknown) => void) | undefined;
  readonly toRecorded: (resolved: AllStreamResolvedEvent) => RecordedEvent | undefined;
  readonly detach: () => void;
}

/**
 * A KurrentDB catch-up subscription to $all (exclusive start, catch-up then live, in log order), consumed one event
 * at a time so the handler is awaited before the next is pulled. A handler error is reported as is; a vendor error
 * is translated first.
 */
class KurrentSubscription implements Subscription {
  private readonly params: KurrentSubscriptionParams;
  private vendor: ReturnType<KurrentSubscriptionParams['start']> | undefined;
  private stopped = false;
  private done: Promise<void> = Promise.resolve();

  constructor(params: KurrentSubscriptionParams) {
    this.params = params;
  }

  run(): void {
    this.done = this.loop();
  }

  async close(): Promise<void> {
    this.stopped = true;
    await this.vendor?.unsubscribe().catch(() => undefined);
    await this.done;
  }

  private async loop(): Promise<void> {
    const { after, handler, onError, toRecorded, detach } = this.params;
    let last = after;
    try {
      const vendor = this.params.start();
      this.vendor = vendor;
      for await (const resolved of vendor) {
        if (this.stopped) break;
        let event: RecordedEvent | undefined;
        try {
          event = toRecorded(resolved);
          if (event === undefined || event.position <= after) continue;
          assertAfter(event, last);
        } catch (error) {
          throw translateKurrentError(error, 'follow $all');
        }
        last = event.position;
        try {
          await handler(event);
        } catch (error) {
          this.stop(onError, error);
          return;
        }
        if (this.stopped) break;
      }
    } catch (error) {
      this.stop(onError, translateKurrentError(error, 'follow $all'));
    } finally {
      detach();
      await this.vendor?.unsubscribe().catch(() => undefined);
    }
  }

  private stop(onError: ((error: unknown) => void) | undefined, error: unknown): void {
    if (this.stopped) return;
    this.stopped = true;
    onError?.(error);
  }
}
