import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import type { EventStore, RecordedEvent } from '@orchestron/event-store';
import { ROWS_NOTICE_BYTES } from './append-events-function.ts';
import { createPostgresEventStore } from './index.ts';
import { dropSchemas, endAdmin, freshSchema, POSTGRES_URL, requirePostgres } from './testing/postgres-test-database.ts';

beforeAll(async () => {
  await requirePostgres();
});

afterAll(async () => {
  await dropSchemas();
  await endAdmin();
});

/** A follower on a pool of its own whose reads of the log are counted: the pool is real, only watched. */
async function countingFollower(
  schema: string,
): Promise<{ store: EventStore; reads: () => number; end: () => Promise<void> }> {
  const pool = new pg.Pool({ connectionString: POSTGRES_URL, max: 4 });
  let reads = 0;
  const query = pool.query.bind(pool) as (...args: unknown[]) => unknown;
  pool.query = ((...args: unknown[]) => {
    if ((args[0] as { name?: string } | undefined)?.name === `${schema}.all`) reads += 1;
    return query(...args);
  }) as typeof pool.query;
  const store = await createPostgresEventStore({ pool, schema, pollIntervalMs: 60_000 });
  return {
    store,
    reads: () => reads,
    end: async () => {
      await store.close();
      await pool.end();
    },
  };
}

/** Polls `check` every 5 ms until it holds, failing after 5 s. */
async function until(what: string, check: () => boolean): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const reached = (seen: RecordedEvent[], position: number): Promise<void> =>
  until(`position ${position}`, () => (seen.at(-1)?.position ?? 0) >= position);

interface Following {
  readonly writer: EventStore;
  /** What the follower's subscription has delivered so far. */
  readonly seen: RecordedEvent[];
  /** The follower's reads of the log since it caught up with the writer's first append. */
  readonly reads: () => number;
}

/** A writer and a follower on a fresh schema, the follower subscribed and caught up with one append of the writer. */
async function withFollowing(body: (following: Following) => Promise<void>): Promise<void> {
  const schema = await freshSchema();
  const writer = await createPostgresEventStore({ url: POSTGRES_URL, schema });
  const follower = await countingFollower(schema);
  const seen: RecordedEvent[] = [];
  const subscription = follower.store.subscribeToAll({}, async (event) => void seen.push(event));
  try {
    const warm = await writer.append('warm', [{ type: 'Warm', data: {} }]);
    await reached(seen, warm.position);
    const caughtUp = follower.reads();
    await body({ writer, seen, reads: () => follower.reads() - caughtUp });
  } finally {
    await subscription.close();
    await Promise.all([writer.close(), follower.end()]);
  }
}

describe('postgres event store: appends send their rows to every follower (ADR 50)', () => {
  it("passes another process's appends on from the notices, without reading them back, as the table has them", async () => {
    await withFollowing(async ({ writer, seen, reads }) => {
      // One batch of several appends, strings JSON text must escape, and more rows than one notice holds.
      const padding = 'x'.repeat(400);
      const results = await Promise.all([
        writer.append('x', [
          { type: 'A', data: { zeta: 1, alpha: 'nul \u0000 "quoted" \\ lone \ud800', nested: { b: [1.5, 1e21] } } },
          { type: 'B', data: [], metadata: { z: 1, a: 2 } },
        ]),
        writer.append(
          'many',
          Array.from({ length: 60 }, (_, index) => ({ type: 'Padded', data: { index, padding } })),
        ),
        writer.append('y', [{ type: 'C', data: 'text, ünïcödé and 🚀' }]),
      ]);
      await reached(seen, Math.max(...results.map((result) => result.position)));
      expect(reads()).toBe(0);
      expect(seen).toEqual(await writer.readAll());
      expect(seen.map((e) => JSON.stringify([e.data, e.metadata]))).toEqual(
        (await writer.readAll()).map((e) => JSON.stringify([e.data, e.metadata])),
      );
    });
  });

  it('reads a row too big for any notice, and passes on the rows around it from their notices', async () => {
    await withFollowing(async ({ writer, seen, reads }) => {
      const { position } = await writer.append('big', [
        { type: 'Small', data: { n: 1 } },
        { type: 'Huge', data: { blob: 'y'.repeat(ROWS_NOTICE_BYTES + 100) } },
        { type: 'Small', data: { n: 2 } },
      ]);
      await reached(seen, position);
      expect(reads()).toBeGreaterThanOrEqual(1);
      expect(seen).toEqual(await writer.readAll());
    });
  });

  it('sends positions alone while the notification queue is backed up, and the follower reads what they cover', async () => {
    // A listener inside an open transaction reads no notices: the queue's tail stays behind it, as behind a process
    // frozen with its connection open.
    const stuck = new pg.Client({ connectionString: POSTGRES_URL });
    await stuck.connect();
    try {
      await stuck.query('LISTEN "orchestron_test_stuck"');
      await stuck.query('BEGIN');
      await withFollowing(async ({ writer, seen, reads }) => {
        const blob = 'z'.repeat(7_000);
        let last = 0;
        for (let batch = 0; batch < 24; batch++) {
          const events = Array.from({ length: 60 }, (_, index) => ({ type: 'Bulky', data: { index, blob } }));
          last = (await writer.append(`bulky-${batch}`, events)).position;
        }
        await reached(seen, last);
        const before = reads();
        const { position } = await writer.append('after', [{ type: 'Small', data: {} }]);
        await reached(seen, position);
        expect(reads() - before).toBe(1);
        expect(seen.length).toBe(position);
      });
    } finally {
      await stuck.query('ROLLBACK').catch(() => undefined);
      await stuck.end();
    }
  });

  it("still announces the last position on the previous version's channel, for its processes in a rolling upgrade", async () => {
    const schema = await freshSchema();
    const writer = await createPostgresEventStore({ url: POSTGRES_URL, schema });
    const listener = new pg.Client({ connectionString: POSTGRES_URL });
    await listener.connect();
    try {
      const payloads: string[] = [];
      listener.on('notification', (message) => {
        if (message.channel === `${schema}_events`) payloads.push(message.payload ?? '');
      });
      await listener.query(`LISTEN "${schema}_events"`);
      const { position } = await writer.append('s', [
        { type: 'A', data: {} },
        { type: 'B', data: {} },
      ]);
      await until('the position notice', () => payloads.length > 0);
      expect(payloads).toEqual([String(position)]);
    } finally {
      await listener.end();
      await writer.close();
    }
  });
});
