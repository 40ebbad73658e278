// One start-up, measured in a process of its own so each figure starts cold and RSS is this start's alone.
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { createInMemoryBus } from '@orchestron/bus';
import type { EventStore } from '@orchestron/event-store';
import { Engine } from '@orchestron/runtime';
import type { Logger } from '@orchestron/runtime';
import { createPostgresEventStore } from '@orchestron/store-postgres';
import { createSqliteEventStore } from '@orchestron/store-sqlite';

export interface StoreLocation {
  readonly kind: 'sqlite' | 'postgres';
  /** The SQLite file, or the PostgreSQL schema. */
  readonly where: string;
  readonly url: string;
}

export interface StartMeasurement {
  /** From `new Engine` to `start()` resolved: the read side restored (or not) and caught up with the log. */
  readonly startMs: number;
  /** Resident set size once started, in bytes. */
  readonly rss: number;
  readonly heapUsed: number;
  readonly runs: number;
  readonly position: number;
  /** What the stop wrote, when it saved a checkpoint. */
  readonly saved?: { readonly ms: number; readonly bytes: number; readonly writeMs: number };
  /** The longest the event loop was held up while the stop saved (the encoding yields; the store's write does not). */
  readonly saveMaxBlockMs: number;
  readonly restored?: { readonly ms: number; readonly bytes: number; readonly writeMs: number };
}

export async function openLocation(location: StoreLocation): Promise<EventStore> {
  return location.kind === 'sqlite'
    ? createSqliteEventStore({ path: location.where })
    : createPostgresEventStore({ url: location.url, schema: location.where, poolSize: 4 });
}

/** Starts an engine's read side on the store (`checkpoints`: whether to use them), then stops it. */
export async function measureStart(location: StoreLocation, checkpoints: boolean): Promise<StartMeasurement> {
  const store = await openLocation(location);
  const logged = new Map<string, Record<string, unknown>>();
  const logger: Logger = {
    info: (message, fields) => logged.set(message, fields ?? {}),
    warn: (message, fields) => process.stderr.write(`warn: ${message} ${JSON.stringify(fields)}\n`),
    error: (message, fields) => process.stderr.write(`error: ${message} ${JSON.stringify(fields)}\n`),
  };
  const t0 = performance.now();
  const engine = new Engine({
    store,
    bus: createInMemoryBus(),
    consume: false,
    logger,
    // Saves only on stop: the figure is the start's, not a periodic save's.
    readCheckpoints: checkpoints ? { everyEvents: Number.MAX_SAFE_INTEGER, everyMs: 3_600_000 } : false,
  });
  await engine.start();
  const startMs = performance.now() - t0;
  const { rss, heapUsed } = process.memoryUsage();
  const runs = engine.index.inMemory;
  const position = engine.index.position;
  const delay = monitorEventLoopDelay({ resolution: 5 });
  delay.enable();
  await engine.stop();
  // A block at the very end shows only when the sampling timer gets to run after it.
  await new Promise((resolve) => setTimeout(resolve, 20));
  delay.disable();
  const saveMaxBlockMs = delay.count > 0 ? delay.max / 1e6 : 0;
  await store.close();
  const figures = (message: string): { ms: number; bytes: number; writeMs: number } | undefined => {
    const fields = logged.get(message);
    if (fields === undefined) return undefined;
    return { ms: Number(fields['ms']), bytes: Number(fields['bytes']), writeMs: Number(fields['writeMs'] ?? 0) };
  };
  const saved = figures('read models checkpointed');
  const restored = figures('read models restored from their checkpoint');
  return {
    startMs,
    rss,
    heapUsed,
    runs,
    position,
    saveMaxBlockMs,
    ...(saved ? { saved } : {}),
    ...(restored ? { restored } : {}),
  };
}
