/**
 * The verifiable log on real stores: the notary hashes what SQLite and PostgreSQL hold, an export checks, and a
 * change made behind the store's back (in its file or table, or in an export) is caught at the position it was made.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import Database from 'better-sqlite3';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { EventStore } from '@orchestron/event-store';
import { createPostgresEventStore } from '@orchestron/store-postgres';
import { createSqliteEventStore } from '@orchestron/store-sqlite';
import { AuditNotary } from './notary.ts';
import { proofProblem } from './proof-check.ts';
import { AuditReader } from './reading.ts';
import { verifyExport } from './verify.ts';
import type { VerifyOptions, VerifyReport } from './verify.ts';

const PG_URL = process.env['ORCHESTRON_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
const { privateKey, publicKey } = generateKeyPairSync('ed25519');

/** Three runs' streams, interleaved in the log as runs are: 3 × 7 events. */
async function fill(store: EventStore, from = 0): Promise<void> {
  for (let revision = from; revision < from + 7; revision++)
    for (const run of ['a', 'b', 'c'])
      await store.append(`run-${run}`, [
        {
          id: randomBytes(8).toString('hex'),
          type: 'StepCompleted',
          data: { run, revision, amount: 10 },
          metadata: {},
        },
      ]);
}

async function notarize(store: EventStore, key: KeyObject = privateKey): Promise<AuditNotary> {
  const notary = new AuditNotary({ store, signingKey: key, signEveryMs: 0 });
  await notary.catchUp();
  return notary;
}

async function exported(store: EventStore): Promise<string[]> {
  const reader = new AuditReader(store);
  const lines: string[] = [];
  for await (const line of reader.exportAll(await reader.latestCheckpoint())) lines.push(line);
  return lines;
}

async function* each(lines: readonly string[]): AsyncGenerator<string> {
  yield* lines;
}

const check = (lines: readonly string[], options: VerifyOptions = { publicKey }): Promise<VerifyReport> =>
  verifyExport(each(lines), options);

describe('the verifiable log on SQLite', () => {
  const path = join(mkdtempSync(join(tmpdir(), 'orchestron-audit-')), 'events.sqlite');
  let store = createSqliteEventStore({ path });
  afterAll(() => store.close());

  it('exports what verifies against a checkpoint signed with the key, and resumes where it stopped', async () => {
    await fill(store);
    await notarize(store);
    await fill(store, 7);
    const again = await notarize(store); // a new notary goes on from the saved tree
    expect(again.latest?.treeSize).toBe(42);
    const lines = await exported(store);
    const report = await check(lines);
    expect(report).toMatchObject({ ok: true, events: 42, streams: 3, problem: null });
    // The first notary came to a log that held 21 events: those are marked as recorded before hashing began.
    expect(report.checkpoint?.since).toEqual({ position: 21, time: expect.any(String) });
    const stranger = generateKeyPairSync('ed25519').publicKey;
    expect((await check(lines, { publicKey: stranger })).problem?.message).toContain('not by the key given');
  });

  it('catches an event altered in the database file, naming its position', async () => {
    await store.close();
    const db = new Database(path);
    db.prepare('UPDATE events SET data = replace(data, \'"amount":10\', \'"amount":99\') WHERE position = 17').run();
    db.close();
    store = createSqliteEventStore({ path });
    const report = await check(await exported(store));
    expect(report.ok).toBe(false);
    expect(report.problem).toMatchObject({ position: 17 });
    expect(report.problem?.message).toContain('does not match its recorded hash: it was altered');
  });

  it("exports one run's stream up to its last hashed event: its hashes and chain check, not the root", async () => {
    await store.append('run-a', [{ id: 'not-hashed-yet', type: 'StepCompleted', data: {}, metadata: {} }]);
    const lines: string[] = [];
    for await (const line of new AuditReader(store).exportStream('run-a', 'run a')) lines.push(line);
    expect(lines).toHaveLength(1 + 14);
    const report = await check(lines);
    expect(report).toMatchObject({ ok: true, events: 14, streams: 1 });
    expect(report.notes[0]).toContain(
      'a filtered export (run a): each event and stream chain was checked, not the root',
    );
  });

  it('proves an event is in the signed tree, and a proof for altered content fails', async () => {
    const reader = new AuditReader(store);
    const checkpoint = await reader.latestCheckpoint();
    const event = (await store.readAll({ after: 4, maxCount: 1 }))[0];
    const proof = await reader.prove(event!, checkpoint!);
    expect(proof?.path.length).toBeGreaterThan(0);
    expect(proofProblem(proof!, publicKey)).toBeNull();
    const altered = { ...proof!, event: { ...proof!.event, data: { forged: true } } };
    expect(proofProblem(altered, publicKey)).toContain('does not match the hash the proof gives');
  });
});

describe('the verifiable log on PostgreSQL', () => {
  const schema = `audit_test_${randomBytes(5).toString('hex')}`;
  let admin: pg.Pool;
  let store: EventStore;
  beforeAll(async () => {
    admin = new pg.Pool({ connectionString: PG_URL, max: 1 });
    store = await createPostgresEventStore({ url: PG_URL, schema });
  });
  afterAll(async () => {
    await store.close();
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.end();
  });

  it('catches an event altered in the table, naming its position', async () => {
    await fill(store);
    await notarize(store);
    expect((await check(await exported(store))).ok).toBe(true);
    await admin.query(`UPDATE "${schema}".events SET type = 'StepSkipped' WHERE position = 9`);
    const report = await check(await exported(store));
    expect(report.problem).toMatchObject({ position: 9 });
  });

  it('marks what the log held before hashing began as unverifiable before that point', async () => {
    await fill(store, 7); // after the first notary's checkpoint; a notary on a fresh table starts later
    const late = await createPostgresEventStore({ url: PG_URL, schema: `${schema}_late` });
    try {
      await fill(late);
      const notary = await notarize(late);
      expect(notary.latest?.since.position).toBe(21);
      expect((await check(await exported(late))).notes.join('\n')).toContain(
        'events up to position 21 were recorded before hashing began',
      );
    } finally {
      await late.close();
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}_late" CASCADE`);
    }
  });
});

describe('an export altered after it was made', () => {
  let lines: string[] = [];
  it('is refused at the position of a byte changed, an event removed, two swapped, or a hash made again', async () => {
    const store = createSqliteEventStore({ path: join(mkdtempSync(join(tmpdir(), 'orchestron-audit-')), 'e.sqlite') });
    await fill(store);
    await notarize(store);
    lines = await exported(store);
    await store.close();
    expect((await check(lines)).ok).toBe(true);

    const byte = [...lines];
    byte[10] = (byte[10] as string).replace('"amount":10', '"amount":11');
    expect((await check(byte)).problem).toMatchObject({ position: 10, line: 11 });

    const removed = lines.filter((_, i) => i !== 8);
    expect((await check(removed)).problem?.message).toMatch(/^position 9 is event 8 of the log, but 7 came before it/);

    const swapped = [...lines];
    [swapped[4], swapped[5]] = [swapped[5] as string, swapped[4] as string];
    expect((await check(swapped)).problem).toMatchObject({ position: 5 });

    const rehashed = [...lines];
    const last = JSON.parse(rehashed.at(-1) as string) as Record<string, unknown>;
    rehashed[rehashed.length - 1] = JSON.stringify({ ...last, data: { forged: true } });
    const { eventHash } = await import('./event-hash.ts');
    const prev = (JSON.parse(rehashed.at(-4) as string) as { hash: string }).hash;
    const forged = JSON.parse(rehashed.at(-1) as string) as Parameters<typeof eventHash>[0];
    rehashed[rehashed.length - 1] = JSON.stringify({ ...forged, hash: eventHash(forged, prev) });
    expect((await check(rehashed)).problem?.message).toContain("not the checkpoint's");

    expect((await check(lines.slice(0, -1))).problem?.message).toContain(
      'the export holds 20 events but the checkpoint covers 21: events were removed',
    );
    const notJson = [...lines];
    notJson[3] = (notJson[3] as string).slice(0, -1);
    expect((await check(notJson)).problem).toMatchObject({ line: 4, message: 'a line is not JSON (after position 2)' });
  });
});
