import { BaseRpcContext, Server } from '@nestjs/microservices';
import type { CustomTransportStrategy, MessageHandler } from '@nestjs/microservices';
import { isObservable, lastValueFrom } from 'rxjs';
import type { BusSubscription, DeliveredMessage, MessageBus, SubscribeOptions } from '@orchestron/bus';

/** The transport id of `BusTransport`: pass it to `EventPattern(topic, BUS_TRANSPORT)` to bind a handler to this transport only. */
export const BUS_TRANSPORT: unique symbol = Symbol('orchestron.bus');

export interface BusTransportOptions {
  /** Owned by whoever created it: closing the transport closes its subscription, never the bus. */
  readonly bus: MessageBus;
  /** The consumer group of the one subscription that serves every registered topic. */
  readonly group: string;
  readonly concurrency?: number;
  readonly unorderedTopics?: SubscribeOptions['unorderedTopics'];
  readonly onAssigned?: SubscribeOptions['onAssigned'];
  readonly onLag?: SubscribeOptions['onLag'];
  /** Called when a handler fails, before the bus dead-letters its message. */
  readonly onError?: (error: unknown, message: DeliveredMessage) => void;
}

export type BusTransportStatus = 'subscribing' | 'subscribed' | 'closed';

/** What an `EventPattern` handler receives as its second argument: the delivered message, as `getMessage()`. */
export class BusContext extends BaseRpcContext<[DeliveredMessage]> {
  getMessage(): DeliveredMessage {
    return this.args[0];
  }
}

/**
 * A NestJS transport over Orchestron's `MessageBus` port, so a Nest microservice runs on the in-memory bus in
 * tests and on Kafka in production without Nest's own Kafka client. Each `EventPattern` names a topic; all of
 * them are served by one consumer-group subscription. A handler receives the `DeliveredMessage` (topic,
 * partition, offset, key, value, headers); when it throws (or its promise or Observable fails) the error goes
 * back to the bus, which dead-letters the message. Request-reply (`MessagePattern`) is not supported: the bus
 * has no replies.
 */
export class BusTransport extends Server<Record<string, never>, BusTransportStatus> implements CustomTransportStrategy {
  override transportId: symbol = BUS_TRANSPORT;
  // The bus must see a handler's failure to dead-letter the message, so Nest must not swallow it.
  override readonly propagatesEventHandlerErrors = true;
  readonly #options: BusTransportOptions;
  #subscribing: Promise<BusSubscription> | undefined;
  #closed = false;
  readonly #byTopic = new Map<string, MessageHandler>();

  constructor(options: BusTransportOptions) {
    super();
    if (!options.group) throw new TypeError('BusTransport: options.group must name a consumer group');
    this.#options = options;
  }

  /** Subscribes once for every registered topic; `callback()` once subscribed, `callback(error)` if that fails. */
  listen(callback: (...optionalParams: unknown[]) => unknown): void {
    this.#subscribing ??= this.#subscribe();
    this.#subscribing.then(
      () => callback(),
      (error: unknown) => callback(error),
    );
  }

  /** Closes the subscription (waiting for handlers still running, as the bus does); the bus stays open. */
  async close(): Promise<void> {
    this.#closed = true;
    const subscribing = this.#subscribing;
    this.#subscribing = undefined;
    const subscription = await subscribing?.catch(() => undefined);
    await subscription?.close();
    this._status$.next('closed');
  }

  on(): never {
    throw new Error('BusTransport has no events to listen to; watch its `status` instead');
  }

  /** The bus this transport consumes from. */
  unwrap<T>(): T {
    return this.#options.bus as T;
  }

  /** The topics the registered `EventPattern` handlers name, in registration order. */
  topics(): string[] {
    return [...this.getHandlers().keys()];
  }

  async #subscribe(): Promise<BusSubscription> {
    const { bus, group, concurrency, unorderedTopics, onAssigned, onLag, onError } = this.#options;
    if (this.#closed) throw new Error(`BusTransport (group ${group}): closed before it was listening`);
    const requestReply = [...this.getHandlers()]
      .filter(([, handler]) => !handler.isEventHandler)
      .map(([pattern]) => pattern);
    if (requestReply.length > 0) {
      throw new Error(
        `BusTransport (group ${group}) handles events only, but ${requestReply.join(', ')} ${requestReply.length === 1 ? 'is a MessagePattern' : 'are MessagePatterns'}: use EventPattern`,
      );
    }
    const topics = this.topics();
    if (topics.length === 0)
      throw new Error(
        `BusTransport (group ${group}): no EventPattern handlers are registered, so there is no topic to subscribe to`,
      );
    this._status$.next('subscribing');
    const subscription = await bus.subscribe(
      { topics, group, concurrency, onAssigned, onLag, onError, ...(unorderedTopics ? { unorderedTopics } : {}) },
      (message) => this.#route(message),
    );
    // close() may have run while the bus was subscribing; it could not close what it did not have yet.
    if (this.#closed) {
      await subscription.close();
      throw new Error(`BusTransport (group ${group}): closed before it was listening`);
    }
    this._status$.next('subscribed');
    return subscription;
  }

  async #route(message: DeliveredMessage): Promise<void> {
    const handler = this.#handlerOf(message.topic);
    if (handler === null)
      throw new Error(
        `BusTransport (group ${this.#options.group}): no EventPattern handler for topic ${message.topic}`,
      );
    await this.#run(handler, message, new BusContext([message]));
  }

  /**
   * The topic's handler, looked up once: Nest's lookup first tries the topic as a JSON pattern, and the SyntaxError
   * it throws and catches for every plain topic name cost 3–4% of the orchestrator's CPU (2026-12-07 profile).
   */
  #handlerOf(topic: string): MessageHandler | null {
    const known = this.#byTopic.get(topic);
    if (known !== undefined) return known;
    const handler = this.getHandlerByPattern(topic);
    if (handler !== null) this.#byTopic.set(topic, handler);
    return handler;
  }

  /** Runs the handler to the end (its promise, or its Observable's completion) inside Nest's processing hooks. */
  #run(handler: MessageHandler, message: DeliveredMessage, context: BusContext): Promise<void> {
    return new Promise((resolve, reject) => {
      // The failure is handed back through reject rather than rethrown, so no hook can leave it unhandled.
      this.runWithProcessingHooks(context, async (runEndHook) => {
        try {
          const result: unknown = await handler(message, context);
          if (isObservable(result)) await lastValueFrom(result, { defaultValue: undefined });
          resolve();
        } catch (error) {
          reject(asError(error, message.topic));
        } finally {
          runEndHook();
        }
      });
    });
  }
}

/**
 * Nest's default RPC exception filter replaces an unknown error with `{ status: 'error', message: 'Internal
 * server error' }`; `BusExceptionFilter` (installed by `createBusMicroservice`) keeps the original. Whatever
 * arrives, the bus gets an Error whose message says what happened.
 */
function asError(error: unknown, topic: string): Error {
  if (error instanceof Error) return error;
  const message =
    typeof error === 'object' && error !== null && typeof (error as { message?: unknown }).message === 'string'
      ? (error as { message: string }).message
      : JSON.stringify(error);
  const hint =
    message === 'Internal server error'
      ? ' (Nest replaced the original error; install BusExceptionFilter to keep it)'
      : '';
  return new Error(`handler for ${topic} failed: ${message}${hint}`, { cause: error });
}
