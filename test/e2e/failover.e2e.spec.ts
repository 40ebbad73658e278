import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { partitionForKey } from '@orchestron/bus-kafka';
import { killStackProcess, restartStackProcess, startStack, stopStack } from '../../tools/stack/stack.ts';
import type { Stack } from '../../tools/stack/stack.ts';
import { startFreshBroker } from '../../tools/stack/fresh-broker.ts';
import type { FreshBroker } from '../../tools/stack/fresh-broker.ts';
import { startPayment, waitForEnd } from '../../tools/stack/stack-runs.ts';

/**
 * Failover without a stop-the-world (issue 11, ADR 22), on a private broker: after a kill -9 of one of two
 * orchestrators, the survivor goes on completing the runs of its own partitions while the dead one is not yet
 * expired, keeps them through the takeover, and when the dead one comes back gives up only what moves to it.
 */
const PG_URL = process.env.ORCHESTRON_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const SCHEMA = `failover_e2e_${process.pid}_${Date.now().toString(36)}`;
const TAG = `${process.pid}-${Date.now().toString(36)}`;
const PARTITIONS = 4;
/** Long enough that the window between the kill and the takeover holds several runs on any machine. */
const SESSION_MS = 8_000;

interface Line {
  readonly at: number;
  readonly msg: string;
  /** Partition numbers the line names, over every topic. */
  readonly numbers: Set<number>;
}

/** The survivor's assignment lines: its runtime's ("partitions assigned") and its Kafka member's. */
function assignments(logFile: string): Line[] {
  const out: Line[] = [];
  for (const text of readFileSync(logFile, 'utf8').split('\n')) {
    if (!text.startsWith('{')) continue;
    const line = JSON.parse(text) as { time: string; msg: string; group?: string; partitions?: unknown };
    if (line.msg === 'partitions assigned' && typeof line.partitions === 'string')
      out.push({ at: Date.parse(line.time), msg: line.msg, numbers: numbersOf(line.partitions.split(',')) });
    if (
      (line.msg === 'kafka consumer assigned' || line.msg === 'kafka consumer gave up partitions') &&
      Array.isArray(line.partitions)
    )
      out.push({
        at: Date.parse(line.time),
        msg: line.msg,
        numbers: numbersOf(line.partitions.map((p) => String(p).split('/').at(-1) as string)),
      });
  }
  return out;
}

function numbersOf(texts: readonly string[]): Set<number> {
  return new Set(texts.filter((t) => t !== 'none' && t !== '').map(Number));
}

describe('a kill -9 of one of two orchestrators does not stop the survivor', () => {
  const root = mkdtempSync(join(tmpdir(), 'orchestron-failover-'));
  const dir = join(root, 'stack');
  let broker: FreshBroker | undefined;
  let stack: Stack | undefined;
  let kept = new Set<number>();
  let killedAt = 0;
  let passed = 0;
  const survivorLog = (): string =>
    ((stack as Stack).processes.find((p) => p.name === 'orchestrator-2') as { logFile: string }).logFile;
  const runtimeLines = (): Line[] => assignments(survivorLog()).filter((l) => l.msg === 'partitions assigned');

  beforeAll(async () => {
    broker = await startFreshBroker({ home: join(root, 'broker') });
    stack = await startStack({
      dir,
      brokers: broker.brokers,
      pgUrl: PG_URL,
      pgSchema: SCHEMA,
      apiPort: 0,
      workMs: 10,
      orchestrators: 2,
      workerInstances: 1,
      workers: ['payments'],
      partitions: PARTITIONS,
      sessionTimeoutMs: SESSION_MS,
      collector: false,
      log: () => undefined,
    });
  }, 150_000);

  afterAll(async () => {
    await stopStack(dir, () => undefined).catch(() => undefined);
    await broker?.stop();
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS "${SCHEMA}" CASCADE`);
    await client.end();
    if (passed === 2) rmSync(root, { recursive: true, force: true });
    else process.stdout.write(`failover e2e: kept the logs in ${dir}/logs\n`);
  }, 60_000);

  it('completes runs of its own partitions while the other is dead and not yet expired, and keeps them', async () => {
    const current = stack as Stack;
    const before = runtimeLines().at(-1);
    kept = before?.numbers ?? new Set();
    // Both instances hold partitions: the survivor neither nothing nor everything.
    expect(kept.size).toBeGreaterThan(0);
    expect(kept.size).toBeLessThan(PARTITIONS);
    await killStackProcess(current, 'orchestrator-1', 'SIGKILL');
    killedAt = Date.now();
    const takenOver = (): Line | undefined =>
      runtimeLines().find((l) => l.at >= killedAt && l.numbers.size > kept.size);
    // Started together: a start whose run lands on the dead one's partitions waits for it, the others must not.
    let ours = 0;
    let completedBeforeTakeover = 0;
    const starts = Array.from({ length: 24 }, (_, i) =>
      startPayment(current, `dead-peer-${TAG}-${i}`).then(
        async (runId) => {
          if (!kept.has(partitionForKey(runId, PARTITIONS))) return;
          ours++;
          const status = await waitForEnd(current, runId, SESSION_MS);
          if (status === 'completed' && takenOver() === undefined) completedBeforeTakeover++;
        },
        () => undefined, // a start on a dead partition may time out: not what this test is about
      ),
    );
    await Promise.all(starts);
    expect(ours).toBeGreaterThanOrEqual(3);
    expect(takenOver()?.at ?? Number.POSITIVE_INFINITY).toBeGreaterThan(killedAt);
    expect(completedBeforeTakeover).toBe(ours);

    // Then the dead one expires and the survivor takes its partitions over, giving up none of its own.
    const deadline = Date.now() + SESSION_MS * 3 + 20_000;
    while (takenOver() === undefined && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    expect(takenOver()?.numbers).toEqual(new Set(Array.from({ length: PARTITIONS }, (_, p) => p)));
    for (const line of assignments(survivorLog()).filter((l) => l.at >= killedAt))
      for (const p of kept) expect([line.msg, line.numbers.has(p)]).toEqual([line.msg, true]);
    passed++;
  }, 120_000);

  it('gives up only what moves back when the killed one rejoins, and both serve', async () => {
    const rejoinedFrom = Date.now();
    stack = await restartStackProcess(stack as Stack, 'orchestrator-1');
    const settled = (): Line | undefined =>
      runtimeLines().find((l) => l.at >= rejoinedFrom && l.numbers.size < PARTITIONS);
    const deadline = Date.now() + 60_000;
    while (settled() === undefined && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    const after = settled();
    expect(after).toBeDefined();
    // Incremental: the survivor's member gave partitions up (the cooperative round) and never dropped to nothing.
    const lines = assignments(survivorLog()).filter((l) => l.at >= rejoinedFrom && l.msg !== 'partitions assigned');
    expect(lines.map((l) => l.msg)).toContain('kafka consumer gave up partitions');
    for (const line of lines) expect(line.numbers.size).toBeGreaterThan(0);
    // And runs on every partition complete, whichever instance now owns it.
    const seen = new Set<number>();
    for (let i = 0; seen.size < PARTITIONS && i < 200; i++) {
      const runId = await startPayment(stack as Stack, `rejoined-${TAG}-${i}`);
      const partition = partitionForKey(runId, PARTITIONS);
      if (seen.has(partition)) continue;
      expect(await waitForEnd(stack as Stack, runId, 30_000)).toBe('completed');
      seen.add(partition);
    }
    expect(seen.size).toBe(PARTITIONS);
    passed++;
  }, 120_000);
});
