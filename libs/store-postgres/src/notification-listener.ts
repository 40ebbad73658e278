import type { RecordedEvent } from '@orchestron/event-store';
import type { Notification, Pool, PoolClient } from 'pg';
import { guarded } from './postgres-errors.ts';
import { noticeEnd, parseRowsNotice } from './rows-notice.ts';

export interface NotificationListenerOptions {
  readonly pool: Pool;
  /** The rows channel (ADR 50). */
  readonly channel: string;
  /**
   * A notice that positions up to `to` were committed; `rows` parses the events it carries (null if it cannot), only
   * when they are wanted.
   */
  readonly onRows: (to: number, rows: () => readonly RecordedEvent[] | null) => void;
  /** A notice on the channel without a position: something was committed, but what is unknown. */
  readonly onUnreadable: () => void;
  /** LISTEN is in place again after a lost connection; whatever was notified meanwhile was missed. */
  readonly onReconnected: () => void;
}

export interface NotificationListener {
  close(): void;
}

const RETRY_FIRST_MS = 250;
const RETRY_MAX_MS = 5_000;

/**
 * Holds one pooled connection in LISTEN. A lost connection is replaced in the background; the caller's poll
 * covers the gap, and `onReconnected` lets it catch up at once.
 */
export async function listenForAppends(options: NotificationListenerOptions): Promise<NotificationListener> {
  const { pool, channel } = options;
  let client: PoolClient | undefined;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let retryDelay = RETRY_FIRST_MS;
  let closed = false;

  function onNotification(message: Notification): void {
    if (message.channel !== channel) return;
    const payload = message.payload ?? '';
    const to = noticeEnd(payload);
    if (to === null) options.onUnreadable();
    else options.onRows(to, () => parseRowsNotice(payload)?.events ?? null);
  }

  function discard(lost: PoolClient): void {
    lost.removeListener('notification', onNotification);
    lost.removeListener('error', onLost);
    lost.removeListener('end', onLost);
    // A dying connection may still report an error, and an 'error' nobody listens to would crash the process.
    lost.on('error', ignore);
    // The client must not return to the pool still listening: destroy it.
    lost.release(true);
  }

  function onLost(): void {
    if (client === undefined) return;
    discard(client);
    client = undefined;
    if (!closed) scheduleRetry();
  }

  function scheduleRetry(): void {
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      listen().then(
        () => {
          retryDelay = RETRY_FIRST_MS;
          options.onReconnected();
        },
        () => {
          retryDelay = Math.min(retryDelay * 2, RETRY_MAX_MS);
          if (!closed) scheduleRetry();
        },
      );
    }, retryDelay);
    retryTimer.unref();
  }

  async function listen(): Promise<void> {
    const connected = await guarded('connect to listen', () => pool.connect());
    connected.on('notification', onNotification);
    connected.on('error', onLost);
    connected.on('end', onLost);
    try {
      await guarded('listen for appends', () => connected.query(`LISTEN "${channel}"`));
    } catch (error) {
      discard(connected);
      throw error;
    }
    if (closed) {
      discard(connected);
      return;
    }
    client = connected;
  }

  await listen();
  return {
    close() {
      closed = true;
      if (retryTimer !== undefined) clearTimeout(retryTimer);
      if (client !== undefined) discard(client);
      client = undefined;
    },
  };
}

function ignore(): void {
  // Nothing to do: the connection is already being replaced or closed.
}
