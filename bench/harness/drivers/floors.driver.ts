// The floors: what one durable write (or one broker hop) per step costs on this machine, with nothing else.
// A "run" of a floor is its shape's steps, each one operation: a chain in sequence, a fan-out in parallel.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import pg from 'pg';
import { closedLoop } from '../closed-loop.ts';
import { kafkaBrokerPids, postgresServerPids } from '../proc-sampler.ts';
import type { Driver, DriverContext, ProcessRef, Shape, SystemName } from '../types.ts';
import { stepsPerRun } from '../types.ts';
import { deleteKafkaPrefix } from './kafka-admin.ts';
import { KafkaHop } from './kafka-hop.ts';
import { dropSchema, PG_URL } from './pg-admin.ts';

type Operation = (runIndex: number, step: number) => Promise<void>;

const bench: ProcessRef = { role: 'bench (floor client)', name: 'bench process', pids: () => [process.pid] };

/** A shape's steps as operations: in sequence for a chain, in parallel then one more for a fan-out. */
async function runShape(shape: Shape, index: number, op: Operation): Promise<number> {
  const one = async (step: number): Promise<void> => {
    if (shape.workMs > 0) await sleep(shape.workMs);
    await op(index, step);
  };
  if (shape.kind === 'chain') for (let i = 1; i <= shape.width; i++) await one(i);
  else {
    await Promise.all(Array.from({ length: shape.width }, (_, i) => one(i + 1)));
    await one(0);
  }
  return stepsPerRun(shape);
}

interface FloorParts {
  readonly system: SystemName;
  open(): Promise<Operation>;
  close(): Promise<void>;
  readonly servers: readonly ProcessRef[];
  readonly settings: Record<string, unknown>;
}

function floorDriver(parts: FloorParts): Driver {
  let op: Operation | undefined;
  return {
    system: parts.system,
    kind: 'floor',
    async start() {
      op = await parts.open();
    },
    runWorkload(shape, inFlight, count, maxSeconds) {
      const operation = op;
      if (!operation) throw new Error(`${parts.system} is not started`);
      return closedLoop(inFlight, count, maxSeconds, (index) => runShape(shape, index, operation));
    },
    async stop() {
      op = undefined;
      await parts.close();
    },
    pids: () => [bench, ...parts.servers],
    writes: async () => ({ events: null, rows: null }),
    crash: { unsupported: 'a floor is one operation, with no orchestrator to kill' },
    settings: () => parts.settings,
  };
}

/** One single-row INSERT, committed on its own (synchronous_commit as the server has it), per step. */
export function postgresFloorDriver(ctx: DriverContext): Driver {
  const schema = `benchh_${ctx.tag}_floor`.toLowerCase();
  const pool = new pg.Pool({ connectionString: PG_URL, max: 20 });
  return floorDriver({
    system: 'floor-postgres',
    async open() {
      await pool.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
      await pool.query(
        `CREATE TABLE "${schema}".commits (id bigserial PRIMARY KEY, run int NOT NULL, step int NOT NULL)`,
      );
      return async (run, step) => {
        await pool.query(`INSERT INTO "${schema}".commits (run, step) VALUES ($1, $2)`, [run, step]);
      };
    },
    async close() {
      await pool.end();
      await dropSchema(PG_URL, schema);
    },
    servers: [{ role: 'postgres', name: 'postgres (server)', pids: postgresServerPids, shared: true }],
    settings: { operation: 'INSERT of one row, autocommit', pool: 20 },
  });
}

/** One INSERT in its own transaction into a WAL-mode SQLite file with synchronous=FULL, per step (better-sqlite3, as libs/store-sqlite). */
export function sqliteFloorDriver(ctx: DriverContext): Driver {
  const dir = join(ctx.workDir, 'floor-sqlite');
  let db: Database.Database | undefined;
  return floorDriver({
    system: 'floor-sqlite',
    async open() {
      mkdirSync(dir, { recursive: true });
      const opened = new Database(join(dir, 'floor.sqlite'));
      db = opened;
      opened.pragma('journal_mode = WAL');
      opened.pragma('synchronous = FULL');
      opened.exec('CREATE TABLE appends (id INTEGER PRIMARY KEY, run INTEGER NOT NULL, step INTEGER NOT NULL)');
      const insert = opened.prepare('INSERT INTO appends (run, step) VALUES (?, ?)');
      return async (run, step) => {
        insert.run(run, step);
      };
    },
    async close() {
      db?.close();
    },
    servers: [],
    settings: { operation: 'INSERT of one row, one transaction, WAL, synchronous=FULL (better-sqlite3, synchronous)' },
  });
}

/** One produce → consume hop per step through the broker (@platformatic/kafka, as libs/bus-kafka). */
export function kafkaFloorDriver(ctx: DriverContext): Driver {
  const prefix = `benchh_${ctx.tag}_floor.`.toLowerCase();
  const hop = new KafkaHop(`${prefix}hops`, `${prefix}group`);
  return floorDriver({
    system: 'floor-kafka',
    async open() {
      await hop.open();
      return (run, step) => hop.trip(`${run}/${step}`);
    },
    async close() {
      await hop.close();
      await deleteKafkaPrefix(prefix).catch(() => undefined);
    },
    servers: [{ role: 'kafka', name: 'kafka (broker)', pids: kafkaBrokerPids, shared: true }],
    settings: hop.settings,
  });
}
