import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import {
  EventStoreClosedError,
  EventStoreUnavailableError,
  ExpectedVersionConflictError,
} from '@orchestron/event-store';
import type { EventStore, RecordedEvent } from '@orchestron/event-store';
import { describeEventStoreConformance } from '@orchestron/event-store/testing';
import { createPostgresEventStore } from './index.ts';
import { MIGRATIONS } from './migrations.ts';
import { dropSchemas, endAdmin, freshSchema, POSTGRES_URL, requirePostgres } from './testing/postgres-test-database.ts';

beforeAll(async () => {
  await requirePostgres();
});

afterAll(async () => {
  await dropSchemas();
  await endAdmin();
});

const range = (count: number): number[] => Array.from({ length: count }, (_, index) => index);

function openStore(schema: string): Promise<EventStore> {
  return createPostgresEventStore({ url: POSTGRES_URL, schema });
}

/** Runs `body` with a store of its own pool on `schema`, closed afterwards whatever happens. */
async function withStore(schema: string, body: (store: EventStore) => Promise<void>): Promise<void> {
  const store = await openStore(schema);
  try {
    await body(store);
  } finally {
    await store.close();
  }
}

/** Two stores on one schema, each with its own pool, as two processes would have. */
function withTwoStores(schema: string, body: (first: EventStore, second: EventStore) => Promise<void>): Promise<void> {
  return withStore(schema, (first) => withStore(schema, (second) => body(first, second)));
}

async function appendInOrder(store: EventStore, streamId: string, count: number): Promise<void> {
  for (const index of range(count)) {
    await store.append(streamId, [{ type: 'Counted', data: { index } }], {
      expectedRevision: index === 0 ? 'no_stream' : index - 1,
    });
  }
}

function waitFor(events: RecordedEvent[], position: number, limitMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const check = (): void => {
      if ((events.at(-1)?.position ?? 0) >= position) resolve();
      else if (Date.now() - started > limitMs)
        reject(new Error(`position ${position} not delivered within ${limitMs} ms`));
      else setTimeout(check, 5);
    };
    check();
  });
}

// The kit calls the factory before every test, and each test expects an empty store: a fresh schema each time.
let lastSchema = '';
describeEventStoreConformance('postgres', async () => openStore((lastSchema = await freshSchema())), {
  checkpoints: {
    async corrupt(name) {
      const admin = await requirePostgres();
      await admin.query(
        `UPDATE "${lastSchema}".checkpoints SET state = left(state, length(state) - 1) || ']' WHERE name = $1`,
        [name],
      );
    },
  },
});

describe('postgres event store: schema', () => {
  it('records each migration with its version once, however many stores start on the schema at the same time', async () => {
    const schema = await freshSchema();
    const admin = await requirePostgres();
    const opened = await Promise.allSettled(range(5).map(() => openStore(schema)));
    const starters = opened.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value] : []));
    try {
      expect(opened.filter((outcome) => outcome.status === 'rejected')).toEqual([]);
      await starters[0]?.append('order-1', [{ type: 'Placed', data: {} }]);
    } finally {
      await Promise.all(starters.map((store) => store.close()));
    }
    const { rows: applied } = await admin.query<{ version: number; name: string; applied_at: Date }>(
      `SELECT version, name, applied_at FROM "${schema}".migrations ORDER BY version`,
    );
    expect(applied.map(({ version, name }) => ({ version, name }))).toEqual(
      MIGRATIONS.map(({ version, name }) => ({ version, name })),
    );

    await withStore(schema, async (again) => {
      expect((await again.readAll()).map((event) => event.type)).toEqual(['Placed']);
    });
    const { rows: after } = await admin.query(
      `SELECT version, name, applied_at FROM "${schema}".migrations ORDER BY version`,
    );
    expect(after).toEqual(applied);
  });

  it('refuses a schema migrated by a newer version of the adapter', async () => {
    const schema = await freshSchema();
    const admin = await requirePostgres();
    await withStore(schema, async () => undefined);
    await admin.query(`INSERT INTO "${schema}".migrations (version, name) VALUES (99, 'from_the_future')`);
    await expect(createPostgresEventStore({ url: POSTGRES_URL, schema })).rejects.toThrow(
      /version 99, newer than this adapter supports/,
    );
  });

  it('rejects a schema name that is not a plain lower-case identifier', async () => {
    await expect(createPostgresEventStore({ url: POSTGRES_URL, schema: 'Robert"; DROP TABLE x; --' })).rejects.toThrow(
      TypeError,
    );
  });
});

describe('postgres event store: several stores on one schema', () => {
  it("a second store sees the first one's events, and positions and revisions continue", async () => {
    await withTwoStores(await freshSchema(), async (first, second) => {
      await first.append('order-1', [
        { type: 'Placed', data: { total: 10 }, metadata: { now: '2025-01-01T00:00:00.000Z' } },
      ]);
      await first.append('order-2', [{ type: 'Placed', data: { total: 20 } }]);
      expect(await second.readAll()).toEqual(await first.readAll());
      expect(await second.streamRevision('order-1')).toBe(0);
      expect(await second.append('order-1', [{ type: 'Paid', data: {} }], { expectedRevision: 0 })).toEqual({
        nextExpectedRevision: 1,
        position: 3,
      });
      expect((await first.readStream('order-1')).map((event) => event.type)).toEqual(['Placed', 'Paid']);
    });
  });

  it('a checkpoint one store saves is what another store on the schema loads, and it outlives both', async () => {
    const schema = await freshSchema();
    await withTwoStores(schema, async (first, second) => {
      await first.checkpoints?.save('read-side', { position: 3, state: '{"runs":3}' });
      expect(await second.checkpoints?.load('read-side')).toEqual({ position: 3, state: '{"runs":3}' });
    });
    await withStore(schema, async (again) => {
      expect(await again.checkpoints?.load('read-side')).toEqual({ position: 3, state: '{"runs":3}' });
    });
  });

  it.each([
    ["'no_stream'", 'no_stream' as const, 0],
    ['an exact revision', 2 as const, 3],
  ])(
    'of appends racing with %s from two pools to one stream, exactly one wins',
    async (_label, expectedRevision, seed) => {
      await withTwoStores(await freshSchema(), async (first, second) => {
        if (seed > 0)
          await first.append(
            'race',
            range(seed).map(() => ({ type: 'Seeded', data: {} })),
          );
        const outcomes = await Promise.allSettled(
          range(20).map((writer) =>
            (writer % 2 === 0 ? first : second).append('race', [{ type: 'Claimed', data: { writer } }], {
              expectedRevision,
            }),
          ),
        );
        const winners = outcomes.filter((outcome) => outcome.status === 'fulfilled');
        expect(winners).toHaveLength(1);
        for (const outcome of outcomes) {
          if (outcome.status === 'rejected') expect(outcome.reason).toBeInstanceOf(ExpectedVersionConflictError);
        }
        expect((await second.readStream('race')).map((event) => event.revision)).toEqual(range(seed + 1));
      });
    },
  );

  it('commits positions gap-free: a reader polling during concurrent appends from two pools never skips one', async () => {
    await withTwoStores(await freshSchema(), async (first, second) => {
      const seen: number[] = [];
      const readNew = async (): Promise<void> => {
        for (const event of await first.readAll({ after: seen.at(-1) ?? 0 })) seen.push(event.position);
      };
      let writing = true;
      const poll = (async () => {
        while (writing) await readNew();
        await readNew();
      })();
      await Promise.all(
        range(8).map((writer) => appendInOrder(writer % 2 === 0 ? first : second, `writer-${writer}`, 40)),
      );
      writing = false;
      await poll;
      // A position that committed after a later one would have been skipped: `seen` would have a hole.
      expect(seen).toEqual(range(8 * 40).map((index) => index + 1));
    });
  });

  it('a subscription follows appends made through another store, woken by NOTIFY rather than its poll', async () => {
    const schema = await freshSchema();
    const writer = await createPostgresEventStore({ url: POSTGRES_URL, schema });
    const follower = await createPostgresEventStore({ url: POSTGRES_URL, schema, pollIntervalMs: 60_000 });
    try {
      const events: RecordedEvent[] = [];
      const subscription = follower.subscribeToAll({}, (event) => {
        events.push(event);
      });
      await new Promise((resolve) => setTimeout(resolve, 50));
      const started = Date.now();
      const { position } = await writer.append('order-1', [
        { type: 'Placed', data: {} },
        { type: 'Paid', data: {} },
      ]);
      await waitFor(events, position, 5_000);
      expect(Date.now() - started).toBeLessThan(5_000);
      await subscription.close();
      expect(events.map((event) => event.type)).toEqual(['Placed', 'Paid']);
    } finally {
      await Promise.all([writer.close(), follower.close()]);
    }
  });

  it('listens again after its LISTEN connection is killed, and delivers what was appended meanwhile', async () => {
    const schema = await freshSchema();
    const admin = await requirePostgres();
    const writer = await openStore(schema);
    const follower = await createPostgresEventStore({ url: POSTGRES_URL, schema, pollIntervalMs: 60_000 });
    try {
      const events: RecordedEvent[] = [];
      const subscription = follower.subscribeToAll({}, (event) => {
        events.push(event);
      });
      const { rows } = await admin.query<{ killed: boolean }>(
        'SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity WHERE query = $1',
        [`LISTEN "${schema}_rows"`],
      );
      expect(rows.map((row) => row.killed)).toEqual([true, true]);
      const { position } = await writer.append('order-1', [{ type: 'Placed', data: {} }]);
      await waitFor(events, position, 10_000);
      const later = await writer.append('order-1', [{ type: 'Paid', data: {} }]);
      await waitFor(events, later.position, 5_000);
      await subscription.close();
      expect(events.map((event) => event.type)).toEqual(['Placed', 'Paid']);
    } finally {
      await Promise.all([writer.close(), follower.close()]);
    }
  });

  it('a subscription sees every event once and in order while two stores append concurrently', async () => {
    await withTwoStores(await freshSchema(), async (first, second) => {
      const events: RecordedEvent[] = [];
      const subscription = second.subscribeToAll({}, async (event) => {
        events.push(event);
        if (events.length % 25 === 0) await new Promise((resolve) => setTimeout(resolve, 2));
      });
      await Promise.all(
        range(8).map((writer) => appendInOrder(writer % 2 === 0 ? first : second, `writer-${writer}`, 30)),
      );
      const sentinel = await first.append('sentinel', [{ type: 'Sentinel', data: {} }]);
      await waitFor(events, sentinel.position, 20_000);
      await subscription.close();
      expect(events.map((event) => event.position)).toEqual(range(8 * 30 + 1).map((index) => index + 1));
    });
  });
});

describe("postgres event store: a process's own appends reach its subscribers without a read back", () => {
  it('delivers a batch it appended, a conflict among it, exactly as the table gives it back', async () => {
    await withStore(await freshSchema(), async (store) => {
      const delivered: RecordedEvent[] = [];
      const subscription = store.subscribeToAll({}, async (event) => void delivered.push(event));
      await store.append('warm', [{ type: 'Warm', data: {} }]);
      await waitFor(delivered, 1, 5_000);
      // One tick: one batch, one transaction.
      const results = await Promise.allSettled([
        store.append('x', [
          { type: 'A', data: { zeta: 1, alpha: 'nul \u0000', nested: { b: [1.5, 1e21], a: null } } },
          { type: 'B', data: [], metadata: { z: 1, a: 2 } },
        ]),
        store.append('y', [{ type: 'C', data: 'text' }]),
        store.append('warm', [{ type: 'Late', data: {} }], { expectedRevision: 'no_stream' }),
        store.append('y', [{ type: 'D', data: null }], { expectedRevision: 0 }),
      ]);
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
      await waitFor(delivered, 5, 5_000);
      await subscription.close();
      const table = await store.readAll();
      expect(delivered).toEqual(table);
      expect(delivered.map((e) => JSON.stringify([e.data, e.metadata]))).toEqual(
        table.map((e) => JSON.stringify([e.data, e.metadata])),
      );
      expect(delivered.map((e) => `${e.streamId}@${e.revision}#${e.position}`)).toEqual([
        'warm@0#1',
        'x@0#2',
        'x@1#3',
        'y@0#4',
        'y@1#5',
      ]);
    });
  });
});

describe('postgres event store: storage and errors', () => {
  it('stores event JSON exactly, including what jsonb would refuse or reorder', async () => {
    await withStore(await freshSchema(), async (store) => {
      const data = {
        zeta: 1,
        alpha: 'nul \u0000 and lone \ud800 surrogate',
        nested: { b: [1.5, -2, 1e21, 0.1], a: null },
      };
      await store.append('exact', [{ type: 'Exact', data, metadata: { z: 1, a: 2 } }]);
      const [read] = await store.readStream('exact');
      expect(read?.data).toEqual(data);
      expect(JSON.stringify(read?.data)).toBe(JSON.stringify(data));
      expect(Object.keys(read?.metadata ?? {})).toEqual(['z', 'a']);
    });
  });

  it('rejects stream ids and types PostgreSQL cannot store with a TypeError naming the field', async () => {
    await withStore(await freshSchema(), async (store) => {
      await expect(store.append('nul\u0000id', [{ type: 'A', data: {} }])).rejects.toThrow(/streamId/);
      await expect(store.append('s', [{ type: 'lone \udc00', data: {} }])).rejects.toThrow(/events\[0\]\.type/);
      expect(await store.readAll()).toEqual([]);
    });
  });

  it('reports an unreachable server as EventStoreUnavailableError', async () => {
    const failure = await createPostgresEventStore({
      url: 'postgres://postgres@127.0.0.1:1/test',
      schema: 'unreachable',
    }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(EventStoreUnavailableError);
    expect((failure as EventStoreUnavailableError).code).toBe('STORE.UNAVAILABLE');
  });

  it('fails a batch the database rejects as EventStoreUnavailableError, records nothing of it, and recovers', async () => {
    const schema = await freshSchema();
    const admin = await requirePostgres();
    await withStore(schema, async (store) => {
      await admin.query(`
        CREATE FUNCTION "${schema}".sabotage() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN IF NEW.type = 'Boom' THEN RAISE EXCEPTION 'injected failure'; END IF; RETURN NEW; END $$;
        CREATE TRIGGER sabotage BEFORE INSERT ON "${schema}".events FOR EACH ROW EXECUTE FUNCTION "${schema}".sabotage();`);
      const outcomes = await Promise.allSettled([
        store.append('healthy', [{ type: 'Fine', data: 1 }]),
        store.append('doomed', [{ type: 'Boom', data: 2 }]),
      ]);
      for (const outcome of outcomes) {
        expect(outcome.status).toBe('rejected');
        if (outcome.status === 'rejected') {
          expect(outcome.reason).toBeInstanceOf(EventStoreUnavailableError);
          expect((outcome.reason as Error).message).toMatch(/injected failure/);
        }
      }
      expect(await store.readAll()).toEqual([]);

      await admin.query(`DROP TRIGGER sabotage ON "${schema}".events`);
      expect(await store.append('healthy', [{ type: 'Fine', data: 1 }], { expectedRevision: 'no_stream' })).toEqual({
        nextExpectedRevision: 0,
        position: 1,
      });
    });
  });

  it('commits appends still queued when close is called, ends its subscriptions, then refuses new calls', async () => {
    const schema = await freshSchema();
    const store = await createPostgresEventStore({ url: POSTGRES_URL, schema });
    const delivered: RecordedEvent[] = [];
    store.subscribeToAll({}, (event) => {
      delivered.push(event);
    });
    const pending = [store.append('s', [{ type: 'A', data: 1 }]), store.append('s', [{ type: 'B', data: 2 }])];
    const closed = store.close();
    await expect(store.append('s', [{ type: 'C', data: 3 }])).rejects.toBeInstanceOf(EventStoreClosedError);
    expect((await Promise.all(pending)).map((result) => result.position)).toEqual([1, 2]);
    await closed;
    expect(() => store.subscribeToAll({}, () => undefined)).toThrow(EventStoreClosedError);

    await withStore(schema, async (reopened) => {
      expect((await reopened.readStream('s')).map((event) => event.type)).toEqual(['A', 'B']);
    });
  });

  it('leaves a pool it was given open', async () => {
    const pool = new pg.Pool({ connectionString: POSTGRES_URL, max: 3 });
    try {
      const store = await createPostgresEventStore({ pool, schema: await freshSchema() });
      await store.append('s', [{ type: 'A', data: {} }]);
      await store.close();
      expect((await pool.query<{ one: number }>('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
      expect(pool.totalCount - pool.idleCount).toBe(0);
    } finally {
      await pool.end();
    }
  });
});
