import { randomUUID } from 'node:crypto';
import { Topics } from '@orchestron/bus';
import type { BusSubscription, DeliveredMessage, MessageBus } from '@orchestron/bus';
import type { Logger } from '@orchestron/runtime';
import type { DeadLetterReplay } from './operator-views.ts';

/**
 * The dead-letter topic as the HTTP API serves it (GET /v1/dead-letters, POST /v1/dead-letters/replay): the same
 * topic `orchestron dlq` reads from Kafka, followed here over the server's own bus. On the Kafka tier each server
 * process reads it from the start under a consumer group of its own, so every process lists every letter; on the
 * embedded tier the in-process bus keeps nothing across a restart, and neither does this.
 */

export interface DeadLetter {
  /** `partition:offset` in the dead-letter topic: what `orchestron dlq replay` takes too. */
  readonly position: string;
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly key: string;
  readonly reason: string;
  /** The consumer group that gave up on it (Kafka); null on the in-process bus. */
  readonly group: string | null;
  readonly headers: Readonly<Record<string, string>>;
  readonly receivedAt: string;
  /** The original message's value when it is JSON; undefined when it was not kept or is not JSON. */
  readonly original: unknown;
  /** Why it cannot be replayed over the API, or null when it can. */
  readonly notReplayable: string | null;
  readonly replays: readonly DeadLetterReplay[];
}

/** Letters kept, newest last; past this the oldest are forgotten (the topic itself keeps them all). */
export const DEAD_LETTERS_KEPT = 10_000;

interface Letter {
  reason?: unknown;
  topic?: unknown;
  partition?: unknown;
  offset?: unknown;
  group?: unknown;
  key?: unknown;
  headers?: unknown;
  original?: unknown;
  originalEncoding?: unknown;
}

export class DeadLetterLog {
  readonly #letters = new Map<string, DeadLetter>();
  readonly #bus: MessageBus;
  readonly #logger: Logger;
  readonly #clock: () => Date;
  #subscription: BusSubscription | null = null;
  #starting: Promise<void> = Promise.resolve();

  constructor(bus: MessageBus, logger: Logger, clock: () => Date = () => new Date()) {
    this.#bus = bus;
    this.#logger = logger;
    this.#clock = clock;
  }

  /**
   * Follows the dead-letter topic from its start, under a group no other process shares. It does not wait for the
   * group to form (seconds on Kafka): the server starts at once, and lists letters as they arrive.
   */
  start(): void {
    this.#starting = this.#bus
      .subscribe(
        { topics: [Topics.deadLetters], group: Topics.group(`orchestron-dlq-reader-${randomUUID()}`) },
        async (message) => this.#take(message),
      )
      .then(
        (subscription) => {
          this.#subscription = subscription;
        },
        (error: unknown) =>
          this.#logger.error('could not follow the dead-letter topic; GET /v1/dead-letters lists nothing', {
            error: error instanceof Error ? error.message : String(error),
          }),
      );
  }

  /** Resolves once the subscription is in place (or failed, which is logged). */
  ready(): Promise<void> {
    return this.#starting;
  }

  async close(): Promise<void> {
    await this.#starting;
    await this.#subscription?.close();
    this.#subscription = null;
  }

  /** Oldest first. */
  list(): DeadLetter[] {
    return [...this.#letters.values()];
  }

  find(position: string): DeadLetter | undefined {
    return this.#letters.get(position);
  }

  /** Publishes the original again, with its key and headers, to the topic it came from; the letter stays listed. */
  async replay(letter: DeadLetter, actor: string, reason: string | null): Promise<DeadLetter> {
    if (letter.notReplayable !== null) throw new Error(letter.notReplayable);
    await this.#bus.publish(letter.topic, [{ key: letter.key, value: letter.original, headers: letter.headers }]);
    const replayed = {
      ...letter,
      replays: [...letter.replays, { at: this.#clock().toISOString(), actor, reason }],
    };
    this.#letters.set(letter.position, replayed);
    this.#logger.warn('dead letter replayed', { position: letter.position, topic: letter.topic, actor, reason });
    return replayed;
  }

  #take(message: DeliveredMessage): void {
    const letter = parseLetter(message, this.#clock().toISOString());
    this.#letters.set(letter.position, letter);
    if (this.#letters.size > DEAD_LETTERS_KEPT) {
      const oldest = this.#letters.keys().next().value;
      if (oldest !== undefined) this.#letters.delete(oldest);
    }
  }
}

function parseLetter(message: DeliveredMessage, receivedAt: string): DeadLetter {
  const raw = (typeof message.value === 'object' && message.value !== null ? message.value : {}) as Letter;
  const { original, notReplayable } = originalOf(raw);
  return {
    position: `${message.partition}:${message.offset}`,
    topic: typeof raw.topic === 'string' ? raw.topic : '',
    partition: typeof raw.partition === 'number' ? raw.partition : -1,
    offset: typeof raw.offset === 'number' ? raw.offset : -1,
    key: typeof raw.key === 'string' ? raw.key : message.key,
    reason: typeof raw.reason === 'string' ? raw.reason : '(no reason given)',
    group: typeof raw.group === 'string' ? raw.group : null,
    headers: stringRecord(raw.headers ?? message.headers),
    receivedAt,
    original,
    notReplayable: typeof raw.topic === 'string' && raw.topic !== '' ? notReplayable : 'it names no source topic',
    replays: [],
  };
}

/** Kafka keeps the original's bytes in base64 (they may not be JSON); the in-process bus keeps the value itself. */
function originalOf(raw: Letter): { original: unknown; notReplayable: string | null } {
  if (raw.originalEncoding !== 'base64') {
    return raw.original === undefined
      ? { original: undefined, notReplayable: 'the original was not kept' }
      : { original: raw.original, notReplayable: null };
  }
  if (typeof raw.original !== 'string')
    return { original: undefined, notReplayable: 'the original was too large to keep in the dead letter' };
  try {
    return { original: JSON.parse(Buffer.from(raw.original, 'base64').toString('utf8')), notReplayable: null };
  } catch {
    return {
      original: undefined,
      notReplayable: 'the original is not JSON: replay it byte for byte with `orchestron dlq replay`',
    };
  }
}

function stringRecord(value: unknown): Record<string, string> {
  if (typeof value !== 'object' || value === null) return {};
  return Object.fromEntries(
    Object.entries(value).filter((entry): entry is [string, string] => typeof entry[1] === 'string'),
  );
}
