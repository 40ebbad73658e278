// orchestron-production-N: the production stack as separate processes (tools/stack/stack.ts) on Kafka and
// PostgreSQL with N orchestrator instances, driven over HTTP with a blocking wait per run.
import { join } from 'node:path';
import { killStackProcess, promoteStandby, startStack, stopStack } from '../../../tools/stack/stack.ts';
import type { Stack } from '../../../tools/stack/stack.ts';
import { closedLoop, withLimit } from '../closed-loop.ts';
import { kafkaBrokerPids, postgresServerPids } from '../proc-sampler.ts';
import type { Driver, DriverContext, ProcessRef, Shape } from '../types.ts';
import { deleteKafkaPrefix } from './kafka-admin.ts';
import { definitionId, orchestronDefinition } from './orchestron-definition.ts';
import { completedSteps, OrchestronHttp } from './orchestron-http.ts';
import { dropSchema, PG_URL, schemaRows, withClient } from './pg-admin.ts';

/** No-op steps go to `iam`, W3's 10 ms steps to `chat` (example workers whose handlers need no input). */
const NO_OP_WORKER = 'iam';
const WORKING_WORKER = 'chat';
const WORK_MS = 10;
const PARTITIONS = 4;
const SESSION_TIMEOUT_MS = 6000;

export function productionDriver(ctx: DriverContext, orchestrators: 1 | 2): Driver {
  const system = orchestrators === 1 ? 'orchestron-production-1' : 'orchestron-production-2';
  const schema = `benchh_${ctx.tag}_prod${orchestrators}`.toLowerCase();
  const prefix = `${schema}.`;
  const dir = join(ctx.workDir, 'stack');
  let stack: Stack | undefined;
  let http: OrchestronHttp | undefined;
  /** A new standby starting after a takeover: the stack with it recorded once it stands by. */
  let standbyStarting: Promise<void> = Promise.resolve();
  const registered = new Set<string>();
  const live = (): { stack: Stack; http: OrchestronHttp } => {
    if (!stack || !http) throw new Error(`${system} is not started`);
    return { stack, http };
  };
  const ensureDefinition = async (shape: Shape): Promise<string> => {
    const id = definitionId(shape);
    if (!registered.has(id)) {
      await live().http.register(orchestronDefinition(shape, shape.workMs > 0 ? WORKING_WORKER : NO_OP_WORKER));
      registered.add(id);
    }
    return id;
  };
  const startRun = async (shape: Shape, count: boolean): Promise<string> =>
    live().http.start(await ensureDefinition(shape), { workMs: shape.workMs, count });
  return {
    system,
    kind: 'orchestron',
    async start() {
      stack = await startStack({
        dir,
        pgSchema: schema,
        apiPort: 0,
        orchestrators,
        workers: [NO_OP_WORKER, WORKING_WORKER],
        workerInstances: 1,
        workMs: 0,
        workMsByWorker: { [WORKING_WORKER]: WORK_MS },
        partitions: PARTITIONS,
        sessionTimeoutMs: SESSION_TIMEOUT_MS,
        staticMembers: true,
        standbys: true,
        collector: false,
        env: { ORCHESTRON_TOPIC_PREFIX: prefix },
        log: (line) => ctx.log(`${system}: ${line.trim()}`),
      });
      http = new OrchestronHttp(stack.url, stack.keys);
    },
    async runWorkload(shape, inFlight, count, maxSeconds) {
      await ensureDefinition(shape);
      return closedLoop(inFlight, count, maxSeconds, async () => {
        const id = await ensureDefinition(shape);
        const run = await live().http.startAndAwait(id, { workMs: shape.workMs, count: false }, 120_000);
        if (run === null) throw new Error('a run did not end in 120 s');
        if (run.status !== 'completed') throw new Error(`run ${run.id} ended ${run.status}`);
        return completedSteps(run);
      });
    },
    async stop() {
      await standbyStarting;
      if (stack) await stopStack(stack.dir, () => undefined);
      stack = undefined;
      await dropSchema(PG_URL, schema).catch((e: Error) =>
        ctx.log(`${system}: could not drop ${schema}: ${e.message}`),
      );
      await deleteKafkaPrefix(prefix).catch((e: Error) => ctx.log(`${system}: topics not deleted: ${e.message}`));
    },
    pids(): ProcessRef[] {
      const own = (stack?.processes ?? []).map((p) => ({ role: p.role, name: p.name, pids: () => [p.pid] }));
      return [
        ...own,
        { role: 'postgres', name: 'postgres (server)', pids: postgresServerPids, shared: true },
        { role: 'kafka', name: 'kafka (broker)', pids: kafkaBrokerPids, shared: true },
      ];
    },
    writes: () =>
      withClient(PG_URL, async (client) => {
        const { total, table } = await schemaRows(client, schema, 'events');
        return { events: table, rows: total };
      }),
    crash: {
      submit: async (shape, count) => {
        await ensureDefinition(shape);
        return withLimit(
          50,
          Array.from({ length: count }, () => () => startRun(shape, true)),
        );
      },
      async kill() {
        await standbyStarting;
        await killStackProcess(live().stack, 'orchestrator-1', 'SIGKILL');
      },
      // Its standby takes over; a new standby starts beside it, as a supervisor would start one, without being waited for.
      async restart() {
        const { stack: promoted, next } = await promoteStandby(live().stack, 'orchestrator-1');
        stack = promoted;
        standbyStarting = next.then(
          (withStandby) => void (stack = withStandby),
          (error: Error) => ctx.log(`${system}: a new standby did not start: ${error.message}`),
        );
      },
      async awaitAll(handles, timeoutMs) {
        const deadline = Date.now() + timeoutMs;
        const ends = await withLimit(
          200,
          handles.map((id) => () => live().http.awaitEnd(id, Math.max(0, deadline - Date.now()))),
        );
        return ends.filter((run) => run?.status === 'completed').length;
      },
      executions: () =>
        withClient(PG_URL, async (client) => {
          const exists = await client.query(`SELECT to_regclass($1) AS t`, [`"${schema}".worker_executions`]);
          if (exists.rows[0]?.t === null) return { executions: 0, distinct: 0 };
          const { rows } = await client.query<{ n: number; d: number }>(
            `SELECT count(*)::int AS n, count(DISTINCT (run_id, step_id))::int AS d FROM "${schema}".worker_executions WHERE phase = 'execute'`,
          );
          return { executions: rows[0]?.n ?? 0, distinct: rows[0]?.d ?? 0 };
        }),
    },
    settings: () => ({
      processes: `${orchestrators} orchestrator(s), each with a warm standby (ORCHESTRON_STANDBY=1), governance, API, workers ${NO_OP_WORKER} and ${WORKING_WORKER} (1 instance each)`,
      kafkaPartitions: PARTITIONS,
      kafkaSessionTimeoutMs: SESSION_TIMEOUT_MS,
      kafkaStaticMembers:
        'orchestrators join as their names (ORCHESTRON_KAFKA_STATIC_MEMBER=1): in W4 the standby of the one killed takes its name and partitions, and a new standby is started',
      pgPoolSize: 'store users (orchestrators, API) 6 each; worker ledger 10 each (tools/stack/stack.ts)',
      workMs: `0 (${NO_OP_WORKER}); ${WORK_MS} (${WORKING_WORKER}, W3)`,
      tracing: 'off (no OTLP collector)',
      client: 'POST /v1/runs, then GET /v1/runs/:id/wait?timeoutMs=… until ended (no polling)',
      pgSchema: 'a fresh schema per start, dropped after',
      topics: 'ORCHESTRON_TOPIC_PREFIX fresh per start, deleted after',
    }),
  };
}
