import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import pg from 'pg';
import { startStack, stopStack } from '../../tools/stack/stack.ts';
import type { Stack } from '../../tools/stack/stack.ts';
import { privateKafka } from '../support/private-kafka.ts';
import type { PrivateKafka } from '../support/private-kafka.ts';
import { eachLimited } from '../support/stack-driver.ts';

/**
 * A broker outage under load, on the production-shaped stack (an orchestrator, governance, a worker and the API as
 * separate processes, on PostgreSQL) with a Kafka broker of its own: producers keep starting runs while the broker
 * is killed with SIGKILL and started again. No start may be answered with a 5xx other than a retryable 503 with
 * Retry-After, and every start that was answered (201, or 202 accepted into the outbox) must run to its end.
 */
const PG_URL = process.env.ORCHESTRON_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const SCHEMA = `outage_e2e_${process.pid}_${Date.now().toString(36)}`;
const PRODUCERS = 4;
/** Between one producer's starts: about 20 starts/s in all, a load the 2-core test machine takes beside others. */
const PAUSE_MS = 200;
const DEFINITION = {
  id: 'outage-e2e',
  version: 1,
  defaults: { retry: { maxAttempts: 3, backoff: 'fixed', initialDelay: '100ms', jitter: 'none' }, timeout: '10s' },
  steps: { send: { worker: 'mail', input: { to: '${{ input.to }}' } } },
};

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const print = (line: string): void => void process.stdout.write(`${line}\n`);

interface Tally {
  readonly statuses: Map<number, number>;
  /** Run id by idempotency key, for every start that was answered 200, 201 or 202. */
  readonly runs: Map<string, string>;
  readonly acceptedDuringOutage: Set<string>;
  readonly violations: string[];
}

describe('a broker outage under load: starts are answered, never crashed on, and none is lost', () => {
  let kafka: PrivateKafka | undefined;
  let stack: Stack | undefined;
  let stackDir: string | undefined;
  let sql: pg.Client | undefined;
  let passed = false;

  beforeAll(async () => {
    const began = Date.now();
    kafka = await privateKafka('outage-e2e');
    await kafka.start();
    sql = new pg.Client({ connectionString: PG_URL });
    await sql.connect();
    stackDir = join(mkdtempSync(join(tmpdir(), 'orchestron-outage-e2e-')), 'stack');
    stack = await startStack({
      dir: stackDir,
      pgUrl: PG_URL,
      pgSchema: SCHEMA,
      apiPort: 0,
      orchestrators: 1,
      workers: ['mail'],
      workerInstances: 1,
      workMs: 5,
      collector: false,
      sessionTimeoutMs: 6_000,
      brokers: kafka.brokers.split(','),
      log: () => undefined,
    });
    const registered = await call(stack, 'admin', 'POST', '/v1/definitions', DEFINITION);
    if (registered.status !== 201) throw new Error(`registering the definition: ${JSON.stringify(registered)}`);
    print(`outage e2e: broker ${kafka.brokers} and stack up in ${((Date.now() - began) / 1000).toFixed(1)} s`);
  }, 150_000);

  afterAll(async () => {
    try {
      if (stackDir !== undefined) await stopStack(stackDir, () => undefined);
      await kafka?.destroy();
      if (passed && stackDir !== undefined) {
        rmSync(dirname(stackDir), { recursive: true, force: true });
        await sql?.query(`DROP SCHEMA IF EXISTS "${SCHEMA}" CASCADE`);
      } else if (stackDir !== undefined) print(`outage e2e: kept the logs in ${stackDir}/logs, schema ${SCHEMA}`);
    } finally {
      await sql?.end();
    }
  }, 60_000);

  it('answers every start 201 or 202 (or a retryable 503) through a kill -9 of the broker, and runs every one once', async () => {
    const live = stack as Stack;
    const broker = kafka as PrivateKafka;
    const tally: Tally = { statuses: new Map(), runs: new Map(), acceptedDuringOutage: new Set(), violations: [] };
    let outage = false;
    let driving = true;
    const producers = Array.from({ length: PRODUCERS }, (_, p) =>
      produce(
        live,
        `p${p}`,
        () => driving,
        () => outage,
        tally,
      ),
    );

    await sleep(3_000);
    const killedAt = Date.now();
    outage = true;
    await broker.kill();
    await sleep(6_000);
    const restartTook = await broker.start();
    const readyAt = Date.now();
    outage = false;
    await sleep(3_000);
    driving = false;
    await Promise.all(producers);

    const drained = await untilAllCompleted(live, [...tally.runs.values()], 60_000);
    const histogram = Object.fromEntries([...tally.statuses].sort(([a], [b]) => a - b));
    print(
      `outage e2e: ${tally.runs.size} starts answered, HTTP statuses ${JSON.stringify(histogram)}; ` +
        `${tally.acceptedDuringOutage.size} accepted (202) while the broker was down (${((readyAt - killedAt) / 1000).toFixed(1)} s, ` +
        `restart ${(restartTook / 1000).toFixed(1)} s); every run completed ${((drained.at - readyAt) / 1000).toFixed(1)} s after the broker was back`,
    );
    expect(tally.violations).toEqual([]);
    expect([...tally.statuses.keys()].filter((status) => status >= 500 && status !== 503)).toEqual([]);
    expect(tally.acceptedDuringOutage.size).toBeGreaterThan(0);
    expect(drained.notCompleted).toEqual([]);
    expect(new Set(tally.runs.values()).size).toBe(tally.runs.size);
    await expectStartedOnce(live, [...tally.runs.values()]);
    passed = true;
  }, 150_000);
});

type Role = 'admin' | 'producer' | 'auditor';
type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

async function call(
  stack: Stack,
  role: Role,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
): Promise<{ status: number; retryAfter: string | null; body: Json }> {
  const response = await fetch(`${stack.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${stack.keys[role]}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Kept as text: the check that follows says what came back.
  }
  return { status: response.status, retryAfter: response.headers.get('retry-after'), body: parsed };
}

/** One producer: a new idempotency key per start; a 503 is retried with the same key after its Retry-After. */
async function produce(
  stack: Stack,
  name: string,
  driving: () => boolean,
  outage: () => boolean,
  tally: Tally,
): Promise<void> {
  for (let n = 0; driving(); n++) {
    const key = `${name}-${n}`;
    for (let attempt = 0; ; attempt++) {
      let answer: Awaited<ReturnType<typeof call>>;
      try {
        answer = await call(stack, 'producer', 'POST', '/v1/runs', {
          definitionId: DEFINITION.id,
          idempotencyKey: key,
          input: { to: `${key}@example.com` },
        });
      } catch (error) {
        tally.violations.push(`${key}: the API did not answer (${String(error)})`);
        break;
      }
      tally.statuses.set(answer.status, (tally.statuses.get(answer.status) ?? 0) + 1);
      if (answer.status === 503) {
        const problem = unavailableProblem(answer);
        if (problem !== null) tally.violations.push(`${key}: ${problem}`);
        if (attempt >= 20) {
          tally.violations.push(`${key}: still 503 after ${attempt + 1} tries`);
          break;
        }
        await sleep(Math.min(1_000, Number(answer.retryAfter) * 1_000));
        continue;
      }
      if (answer.status === 200 || answer.status === 201 || answer.status === 202) {
        tally.runs.set(key, answer.body.run.id);
        if (answer.status === 202 && outage()) tally.acceptedDuringOutage.add(key);
      } else tally.violations.push(`${key}: HTTP ${answer.status} ${JSON.stringify(answer.body).slice(0, 300)}`);
      break;
    }
    await sleep(PAUSE_MS);
  }
}

function unavailableProblem(answer: Awaited<ReturnType<typeof call>>): string | null {
  if (answer.body?.error?.retryable !== true) return `a 503 not marked retryable: ${JSON.stringify(answer.body)}`;
  if (!/^\d+$/.test(answer.retryAfter ?? '')) return `a 503 without Retry-After (${answer.retryAfter})`;
  if (answer.body?.agent_contract?.retryable !== true) return 'a 503 whose agent_contract is not retryable';
  return null;
}

async function untilAllCompleted(
  stack: Stack,
  runIds: readonly string[],
  withinMs: number,
): Promise<{ at: number; notCompleted: string[] }> {
  const deadline = Date.now() + withinMs;
  let left = [...runIds];
  let last = new Map<string, string>();
  while (left.length > 0 && Date.now() < deadline) {
    const seen = new Map<string, string>();
    await eachLimited(left, 8, async (runId) => {
      const answer = await call(stack, 'auditor', 'GET', `/v1/runs/${runId}`);
      seen.set(runId, answer.status === 200 ? answer.body.run.status : `HTTP ${answer.status}`);
    });
    last = seen;
    left = left.filter((runId) => seen.get(runId) !== 'completed');
    if (left.length > 0) await sleep(500);
  }
  return { at: Date.now(), notCompleted: left.map((runId) => `${runId}: ${last.get(runId) ?? 'never read'}`) };
}

/** Each run has one start and one completed step: a start published twice (relay and retry) ran once. */
async function expectStartedOnce(stack: Stack, runIds: readonly string[]): Promise<void> {
  const twice: string[] = [];
  await eachLimited(runIds, 8, async (runId) => {
    const { body } = await call(stack, 'auditor', 'GET', `/v1/runs/${runId}/events`);
    const types: string[] = body.events.map((e: { type: string }) => e.type);
    const count = (type: string): number => types.filter((t) => t === type).length;
    if (count('RunStarted') !== 1 || count('StepCompleted') !== 1) twice.push(`${runId}: ${types.join(' ')}`);
  });
  expect(twice).toEqual([]);
}
