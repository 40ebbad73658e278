import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import Database from 'better-sqlite3';
import {
  EventStoreClosedError,
  EventStoreUnavailableError,
  ExpectedVersionConflictError,
} from '@orchestron/event-store';
import { describeEventStoreConformance } from '@orchestron/event-store/testing';
import { createSqliteEventStore } from './index.ts';

const directories: string[] = [];

async function freshDatabasePath(): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), 'orchestron-store-sqlite-'));
  directories.push(directory);
  return join(directory, 'events.db');
}

afterAll(async () => {
  await Promise.all(directories.map((directory) => rm(directory, { recursive: true, force: true })));
});

let lastPath = '';
describeEventStoreConformance(
  'sqlite',
  async () => createSqliteEventStore({ path: (lastPath = await freshDatabasePath()) }),
  {
    checkpoints: {
      async corrupt(name) {
        const raw = new Database(lastPath);
        try {
          raw
            .prepare("UPDATE checkpoints SET state = substr(state, 1, length(state) - 1) || ']' WHERE name = ?")
            .run(name);
        } finally {
          raw.close();
        }
      },
    },
  },
);

describe('sqlite event store', () => {
  it('keeps every event across close and reopen, and continues positions and revisions', async () => {
    const path = await freshDatabasePath();
    const first = createSqliteEventStore({ path });
    await first.append('order-1', [
      { type: 'Placed', data: { total: 10 }, metadata: { now: '2025-01-01T00:00:00.000Z' } },
    ]);
    await first.append('order-2', [{ type: 'Placed', data: { total: 20 } }]);
    const before = await first.readAll();
    await first.close();

    const second = createSqliteEventStore({ path });
    expect(await second.readAll()).toEqual(before);
    expect(await second.append('order-1', [{ type: 'Paid', data: {} }], { expectedRevision: 0 })).toEqual({
      nextExpectedRevision: 1,
      position: 3,
    });
    await second.close();

    const raw = new Database(path, { readonly: true });
    expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(raw.pragma('user_version', { simple: true })).toBe(5);
    raw.close();
  });

  it('commits the appends of one tick in one batch, checking each against the earlier ones', async () => {
    let batches = 0;
    const store = createSqliteEventStore({
      path: await freshDatabasePath(),
      now: () => new Date(Date.UTC(2025, 0, 1, 0, 0, (batches += 1))),
    });
    const outcomes = await Promise.allSettled([
      store.append('s', [{ type: 'A', data: 1 }], { expectedRevision: 'no_stream' }),
      store.append('s', [{ type: 'B', data: 2 }], { expectedRevision: 0 }),
      store.append('s', [{ type: 'C', data: 3 }], { expectedRevision: 'no_stream' }),
      store.append('t', [{ type: 'D', data: 4 }], { expectedRevision: 'no_stream' }),
    ]);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    const conflict = outcomes[2]?.status === 'rejected' ? outcomes[2].reason : undefined;
    expect(conflict).toBeInstanceOf(ExpectedVersionConflictError);
    expect(conflict).toMatchObject({ streamId: 's', expected: 'no_stream', actual: 1 });

    await store.append('s', [{ type: 'E', data: 5 }]);
    const all = await store.readAll();
    expect(all.map((event) => `${event.type}@${event.position}`)).toEqual(['A@1', 'B@2', 'D@3', 'E@4']);
    // `now` is read once per transaction: one stamp for the first tick's batch, another for the next.
    expect(new Set(all.slice(0, 3).map((event) => event.recordedAt)).size).toBe(1);
    expect(all[3]?.recordedAt).not.toBe(all[0]?.recordedAt);
    await store.close();
  });

  it('rejects the whole batch when its transaction fails, records nothing of it, and recovers', async () => {
    const path = await freshDatabasePath();
    const store = createSqliteEventStore({ path });
    const saboteur = new Database(path);
    saboteur.exec(
      "CREATE TRIGGER sabotage BEFORE INSERT ON events WHEN NEW.type = 'Boom' BEGIN SELECT RAISE(ABORT, 'injected failure'); END",
    );

    const outcomes = await Promise.allSettled([
      store.append('healthy', [{ type: 'Fine', data: 1 }]),
      store.append('doomed', [{ type: 'Boom', data: 2 }]),
    ]);
    for (const outcome of outcomes) {
      expect(outcome.status).toBe('rejected');
      const reason = outcome.status === 'rejected' ? (outcome.reason as EventStoreUnavailableError) : undefined;
      expect(reason).toBeInstanceOf(EventStoreUnavailableError);
      expect(reason?.code).toBe('STORE.UNAVAILABLE');
    }
    expect(await store.readAll()).toEqual([]);

    saboteur.exec('DROP TRIGGER sabotage');
    saboteur.close();
    expect(await store.append('healthy', [{ type: 'Fine', data: 1 }], { expectedRevision: 'no_stream' })).toEqual({
      nextExpectedRevision: 0,
      position: 1,
    });
    await store.close();
  });

  it('checks each append against what another process wrote since, though it remembers the heads it wrote', async () => {
    const path = await freshDatabasePath();
    const ours = createSqliteEventStore({ path });
    const theirs = createSqliteEventStore({ path });
    await ours.append('s', [{ type: 'A', data: 1 }], { expectedRevision: 'no_stream' });
    await theirs.append('s', [{ type: 'B', data: 2 }], { expectedRevision: 0 });

    // Ours last wrote revision 0: the stream is at 1 now, and each expectation is judged on that.
    await expect(ours.append('s', [{ type: 'X', data: 0 }], { expectedRevision: 0 })).rejects.toMatchObject({
      code: 'STORE.EXPECTED_VERSION_CONFLICT',
      actual: 1,
    });
    await expect(ours.append('s', [{ type: 'X', data: 0 }], { expectedRevision: 'no_stream' })).rejects.toBeInstanceOf(
      ExpectedVersionConflictError,
    );
    expect(await ours.append('s', [{ type: 'C', data: 3 }], { expectedRevision: 1 })).toMatchObject({
      nextExpectedRevision: 2,
    });
    await theirs.append('s', [{ type: 'D', data: 4 }], { expectedRevision: 2 });
    // 'any' appends after whatever is there, even when this store last saw an earlier head.
    expect(await ours.append('s', [{ type: 'E', data: 5 }])).toMatchObject({ nextExpectedRevision: 4 });
    expect(await ours.append('s', [], { expectedRevision: 4 })).toMatchObject({ nextExpectedRevision: 4 });
    expect((await theirs.readStream('s')).map((event) => event.type)).toEqual(['A', 'B', 'C', 'D', 'E']);
    // A stream ours never saw: expecting none is answered by the table, with its real head.
    await theirs.append('t', [
      { type: 'A', data: 1 },
      { type: 'B', data: 2 },
    ]);
    await expect(ours.append('t', [{ type: 'X', data: 0 }], { expectedRevision: 'no_stream' })).rejects.toMatchObject({
      code: 'STORE.EXPECTED_VERSION_CONFLICT',
      actual: 1,
    });
    expect((await ours.readStream('t')).map((event) => event.type)).toEqual(['A', 'B']);
    await Promise.all([ours.close(), theirs.close()]);
  });

  it('commits appends still queued when close is called, then refuses new calls', async () => {
    const path = await freshDatabasePath();
    const store = createSqliteEventStore({ path });
    const pending = [store.append('s', [{ type: 'A', data: 1 }]), store.append('s', [{ type: 'B', data: 2 }])];
    const closed = store.close();
    await expect(store.append('s', [{ type: 'C', data: 3 }])).rejects.toBeInstanceOf(EventStoreClosedError);
    expect((await Promise.all(pending)).map((result) => result.position)).toEqual([1, 2]);
    await closed;

    const reopened = createSqliteEventStore({ path });
    expect((await reopened.readStream('s')).map((event) => event.type)).toEqual(['A', 'B']);
    await reopened.close();
  });

  it('keeps checkpoints across close and reopen, and adds their table to a database made before it existed', async () => {
    const path = await freshDatabasePath();
    const old = new Database(path);
    old.exec(
      'CREATE TABLE events (position INTEGER PRIMARY KEY AUTOINCREMENT, stream_id TEXT NOT NULL, revision INTEGER NOT NULL CHECK (revision >= 0), id TEXT NOT NULL, type TEXT NOT NULL, data TEXT NOT NULL, metadata TEXT NOT NULL, recorded_at TEXT NOT NULL, UNIQUE (stream_id, revision)) STRICT',
    );
    old.pragma('user_version = 1');
    old.close();

    const first = createSqliteEventStore({ path });
    await first.append('s', [{ type: 'A', data: 1 }]);
    await first.checkpoints?.save('read-side', { position: 1, state: '{"runs":1}' });
    await first.close();
    const second = createSqliteEventStore({ path });
    expect(await second.checkpoints?.load('read-side')).toEqual({ position: 1, state: '{"runs":1}' });
    expect(await second.readAll()).toHaveLength(1);
    await second.close();
  });

  it('refuses a database whose schema is newer than it knows', async () => {
    const path = await freshDatabasePath();
    const raw = new Database(path);
    raw.pragma('user_version = 99');
    raw.close();
    expect(() => createSqliteEventStore({ path })).toThrow(/schema version 99 is newer/);
  });

  it('indexes the audit index sparse fields only where they hold a value, and searches by each use the index', async () => {
    const path = await freshDatabasePath();
    const store = createSqliteEventStore({ path });
    const { position } = await store.append('run-1', [{ type: 'Happened', data: {} }]);
    const entry = { position, runId: 'run-1', tenant: 't1', definitionId: 'd1', type: 'Happened' };
    await store.auditIndex?.put([
      { ...entry, actor: null, stepId: null, policyId: 'p1', recordedAt: '2026-01-01T00:00:00.000Z' },
    ]);
    expect((await store.auditIndex?.query({ policyId: 'p1' }, { limit: 5 }))?.map((hit) => hit.entry.position)).toEqual(
      [position],
    );
    await store.close();
    const raw = new Database(path, { readonly: true });
    for (const [index, column] of [
      ['audit_by_actor', 'actor'],
      ['audit_by_step', 'step_id'],
      ['audit_by_policy', 'policy_id'],
    ] as const) {
      const { sql } = raw.prepare('SELECT sql FROM sqlite_master WHERE name = ?').get(index) as { sql: string };
      expect(sql).toMatch(new RegExp(`WHERE ${column} IS NOT NULL$`));
      const plan = raw
        .prepare(
          `EXPLAIN QUERY PLAN SELECT a.position FROM audit_index a JOIN events e ON e.position = a.position
           WHERE a.position > ? AND a.${column} = ? ORDER BY a.position LIMIT ?`,
        )
        .all(0, 'x', 10) as { detail: string }[];
      expect(plan.map((row) => row.detail).join('; ')).toContain(`INDEX ${index} (${column}=?)`);
    }
    raw.close();
  });

  it('reports an unusable path as an EventStoreUnavailableError', async () => {
    const path = join(await freshDatabasePath(), 'missing-directory', 'events.db');
    expect(() => createSqliteEventStore({ path })).toThrow(EventStoreUnavailableError);
  });

  it('lets a subscription started after reopen replay what an earlier process wrote', async () => {
    const path = await freshDatabasePath();
    const first = createSqliteEventStore({ path });
    await first.append('s', [
      { type: 'A', data: 1 },
      { type: 'B', data: 2 },
    ]);
    await first.close();

    const second = createSqliteEventStore({ path });
    const seen: string[] = [];
    let reached: () => void = () => undefined;
    const done = new Promise<void>((resolve) => {
      reached = resolve;
    });
    const subscription = second.subscribeToAll({}, (event) => {
      seen.push(event.type);
      if (event.type === 'C') reached();
    });
    await second.append('s', [{ type: 'C', data: 3 }]);
    await done;
    await subscription.close();
    await second.close();
    expect(seen).toEqual(['A', 'B', 'C']);
  });
});
