import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import type { ClaimContext } from '@orchestron/worker-sdk';
import { describeIdempotencyLedgerConformance } from '@orchestron/worker-sdk/testing';
import { createPostgresEventStore } from '@orchestron/store-postgres';
import { PostgresLedger } from './index.ts';

// Against the PostgreSQL of the development and CI machines; an unreachable server fails these tests.
const URL = process.env['ORCHESTRON_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
const schemas: string[] = [];
const freshSchema = (): string => {
  const schema = `orchestron_ledger_${randomBytes(5).toString('hex')}`;
  schemas.push(schema);
  return schema;
};

afterAll(async () => {
  const admin = new pg.Client({ connectionString: URL });
  await admin.connect();
  for (const schema of schemas) await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await admin.end();
});

// Each ledger has its own pool, as two processes would.
describeIdempotencyLedgerConformance(
  'postgres',
  async () => {
    const schema = freshSchema();
    const ledger = await PostgresLedger.open({ url: URL, schema });
    const twin = await PostgresLedger.open({ url: URL, schema });
    return {
      ledger,
      twin,
      close: async () => {
        await ledger.close();
        await twin.close();
      },
    };
  },
  { recordsExecutions: true },
);

const ctx = (key: string, instance: string): ClaimContext => ({
  runId: key.split('/')[0] ?? key,
  stepId: 'pay',
  attempt: 1,
  phase: 'execute',
  worker: 'payments',
  instance,
});

describe('PostgresLedger', () => {
  it('lets exactly one of two ledgers claim each of 300 keys they race for, and logs one execution per key', async () => {
    const schema = freshSchema();
    const [a, b] = await Promise.all([
      PostgresLedger.open({ url: URL, schema }),
      PostgresLedger.open({ url: URL, schema }),
    ]);
    try {
      const keys = Array.from({ length: 300 }, (_, i) => `run-${i}/pay/1`);
      const reversed = [...keys].reverse();
      const won: Record<string, number> = { a: 0, b: 0 };
      // What a worker does with a claim: run (and log) only when it won.
      const work = async (ledger: PostgresLedger, instance: string, key: string): Promise<void> => {
        const claim = await ledger.claim(key, ctx(key, instance));
        if (claim.state !== 'claimed') return;
        won[instance] = (won[instance] ?? 0) + 1;
        if (claim.executionRecorded !== true) await ledger.recordExecution(key, ctx(key, instance));
        await ledger.complete(key, { ok: true, output: { by: instance } });
      };
      await Promise.all(
        // In opposite orders: each ledger's batch takes its rows in key order, so the two cannot deadlock.
        keys.flatMap((key, i) => [work(a as PostgresLedger, 'a', key), work(b as PostgresLedger, 'b', reversed[i]!)]),
      );
      expect((won.a ?? 0) + (won.b ?? 0)).toBe(300);
      expect(await a?.executionCount()).toBe(300);
      expect(await b?.duplicateExecutions()).toBe(0);
      const again = await b?.claim('run-7/pay/1', ctx('run-7/pay/1', 'b'));
      expect(again?.state).toBe('done');
      process.stdout.write(`postgres ledger race: a claimed ${won.a}, b claimed ${won.b} of 300 keys\n`);
    } finally {
      await Promise.all([a?.close(), b?.close()]);
    }
  });

  it('counts a key executed twice as a duplicate', async () => {
    const ledger = await PostgresLedger.open({ url: URL, schema: freshSchema() });
    try {
      await ledger.recordExecution('r1/pay/1', ctx('r1/pay/1', 'a'));
      await ledger.recordExecution('r1/pay/1', ctx('r1/pay/1', 'b'));
      await ledger.recordExecution('r2/pay/1', ctx('r2/pay/1', 'a'));
      expect(await ledger.duplicateExecutions()).toBe(1);
      expect(await ledger.executionCount()).toBe(3);
    } finally {
      await ledger.close();
    }
  });

  it('creates its schema once when several instances start on it at the same time', async () => {
    const schema = freshSchema();
    const opened = await Promise.allSettled(Array.from({ length: 5 }, () => PostgresLedger.open({ url: URL, schema })));
    await Promise.all(opened.map((o) => (o.status === 'fulfilled' ? o.value.close() : undefined)));
    expect(opened.filter((o) => o.status === 'rejected')).toEqual([]);
  });

  it('creates its schema beside event stores that start on the same schema at the same moment (a whole stack starting)', async () => {
    for (let round = 0; round < 5; round++) {
      const schema = freshSchema();
      const opened = await Promise.allSettled([
        ...Array.from({ length: 3 }, () => PostgresLedger.open({ url: URL, schema })),
        ...Array.from({ length: 3 }, () => createPostgresEventStore({ url: URL, schema, poolSize: 2 })),
      ]);
      await Promise.all(opened.map((o) => (o.status === 'fulfilled' ? o.value.close() : undefined)));
      expect(
        opened.filter((o) => o.status === 'rejected').map((o) => String((o as PromiseRejectedResult).reason)),
      ).toEqual([]);
    }
  });

  it('works on a pool it is given, and leaves that pool open', async () => {
    const pool = new pg.Pool({ connectionString: URL, max: 2 });
    try {
      const ledger = await PostgresLedger.open({ pool, schema: freshSchema() });
      expect(await ledger.claim('p/s/1', ctx('p/s/1', 'a'))).toEqual({ state: 'claimed', executionRecorded: true });
      await ledger.close();
      expect((await pool.query<{ one: number }>('SELECT 1 AS one')).rows[0]?.one).toBe(1);
    } finally {
      await pool.end();
    }
  });

  it('sends the claims, and the completions, asked for in one tick as one statement each, with one winner per key', async () => {
    const pool = new pg.Pool({ connectionString: URL, max: 4 });
    const statements: string[] = [];
    const query = pool.query.bind(pool) as (...args: unknown[]) => Promise<unknown>;
    (pool as unknown as { query: (...args: unknown[]) => Promise<unknown> }).query = (...args: unknown[]) => {
      statements.push(String(args[0]).trim().split(/\s+/)[0] ?? '');
      return query(...args);
    };
    try {
      const ledger = await PostgresLedger.open({ pool, schema: freshSchema() });
      statements.length = 0;
      const keys = Array.from({ length: 100 }, (_, i) => `t-${i}/pay/1`);
      // key 0 is asked for twice in the same tick: the first ask wins, the second finds it running.
      const claims = await Promise.all([...keys, keys[0]!].map((key) => ledger.claim(key, ctx(key, 'a'))));
      expect(claims.filter((c) => c.state === 'claimed')).toHaveLength(100);
      expect(claims[0]).toEqual({ state: 'claimed', executionRecorded: true });
      expect(claims[100]).toEqual({ state: 'running' });
      expect(statements).toEqual(['WITH']);
      // Completed twice in one tick, and a key never claimed: those fail alone, the rest are done.
      const done = await Promise.allSettled(
        [...keys, keys[1]!, 'never/pay/1'].map((key) => ledger.complete(key, { ok: true, output: { key } })),
      );
      expect(done.filter((d) => d.status === 'fulfilled')).toHaveLength(100);
      expect(done.slice(100).map((d) => (d as PromiseRejectedResult).reason?.message)).toEqual([
        'PostgresLedger: cannot complete "t-1/pay/1": it is not a running claim',
        'PostgresLedger: cannot complete "never/pay/1": it is not a running claim',
      ]);
      expect(statements).toEqual(['WITH', 'UPDATE']);
      expect(await ledger.claim(keys[1]!, ctx(keys[1]!, 'b'))).toEqual({
        state: 'done',
        outcome: { ok: true, output: { key: keys[1] } },
      });
      expect(await ledger.duplicateExecutions()).toBe(0);
      expect(await ledger.executionCount()).toBe(100);
      await ledger.close();
    } finally {
      await pool.end();
    }
  });

  it('rejects a schema name that is not a plain lower-case identifier, naming the setting', async () => {
    await expect(PostgresLedger.open({ url: URL, schema: 'Bad-Name' })).rejects.toThrow(
      /schema must be 1 to 48 lower-case letters/,
    );
  });
});
