import { useEffect, useRef } from 'react';
import { storedKey } from './api.ts';
import type { StreamEvent } from './types.ts';

/**
 * Follows GET /v1/events/stream. EventSource cannot send an Authorization header, so this reads the stream with
 * fetch, and on a drop reconnects with the last id it saw as Last-Event-ID: nothing is missed.
 */
export function followEvents(query: string, onEvent: (event: StreamEvent) => void): () => void {
  const abort = new AbortController();
  let lastId: string | null = null;
  const connect = async (): Promise<void> => {
    const key = storedKey();
    const response = await fetch(`/v1/events/stream${query}`, {
      headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...(lastId ? { 'last-event-id': lastId } : {}) },
      signal: abort.signal,
    });
    if (!response.ok || !response.body) throw new Error(`event stream answered ${response.status}`);
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const frame = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const id = /^id: (.*)$/m.exec(frame)?.[1];
        const data = /^data: (.*)$/m.exec(frame)?.[1];
        if (id === undefined || data === undefined) continue;
        lastId = id;
        onEvent(JSON.parse(data) as StreamEvent);
      }
    }
  };
  const loop = async (): Promise<void> => {
    while (!abort.signal.aborted) {
      await connect().catch(() => undefined);
      if (!abort.signal.aborted) await new Promise((resolve) => setTimeout(resolve, 2_000));
    }
  };
  void loop();
  return () => abort.abort();
}

/** Calls `refresh` (at most every `ms`) whenever an event of the stream arrives; follows while mounted. */
export function useLiveRefresh(query: string | null, refresh: () => void, ms = 250): void {
  const latest = useRef(refresh);
  latest.current = refresh;
  useEffect(() => {
    if (query === null) return undefined;
    let timer: ReturnType<typeof setTimeout> | null = null;
    const stop = followEvents(query, () => {
      timer ??= setTimeout(() => {
        timer = null;
        latest.current();
      }, ms);
    });
    return () => {
      stop();
      if (timer) clearTimeout(timer);
    };
  }, [query, ms]);
}
