import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from '@jest/globals';
import { createInMemoryBus, Topics } from '@orchestron/bus';
import type { StepCommandMessage, StepEventMessage } from '@orchestron/bus';
import { heartbeats } from './attempt.ts';
import { createWorker } from './worker.ts';
import type { Worker, WorkerOptions } from './worker.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const running: Worker[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((w) => w.stop()));
});

/**
 * Runs one attempt on a worker and returns the reports it sent, in order. The handler works `workMs`, or with
 * `untilBeats` until that many heartbeats were sent (at most 10 s), so a loaded machine's late timers change nothing.
 */
async function attempt(
  heartbeatIntervalMs: number | null,
  workMs: number,
  options: Partial<WorkerOptions> = {},
  untilBeats = 0,
): Promise<StepEventMessage['type'][]> {
  const bus = createInMemoryBus();
  const runId = `run-${randomUUID()}`;
  const reports: StepEventMessage[] = [];
  await bus.subscribe({ topics: [Topics.stepEvents], group: 'spy' }, async (m) => {
    reports.push(m.value as StepEventMessage);
  });
  const worker = createWorker({
    name: 'hb',
    bus,
    handlers: {
      execute: async () => {
        await sleep(workMs);
        const beats = () => reports.filter((r) => r.type === 'step.heartbeat').length;
        for (let i = 0; i < 2000 && beats() < untilBeats; i++) await sleep(5);
      },
    },
    reportStartedAfterMs: 0,
    ...options,
  });
  running.push(worker);
  await worker.start();
  const command: StepCommandMessage = {
    type: 'step.execute',
    runId,
    stepId: 's',
    attempt: 1,
    worker: 'hb',
    action: null,
    input: null,
    idempotencyKey: `${runId}/s/1`,
    deadline: null,
    heartbeatIntervalMs,
    definitionId: 'd',
  };
  await bus.publish(Topics.commands('hb'), [{ key: runId, value: command }]);
  for (let i = 0; i < 400 && !reports.some((r) => r.type === 'step.completed'); i++) await sleep(5);
  // Anything sent after the outcome would arrive now.
  await sleep(80);
  return reports.map((r) => r.type);
}

describe('heartbeats at the pace the command asks', () => {
  it('sends step.heartbeat every heartbeatIntervalMs while the handler runs, and none after the outcome', async () => {
    const began = Date.now();
    const sent = await attempt(25, 100, {}, 3);
    const ran = Date.now() - began;
    const beats = sent.filter((t) => t === 'step.heartbeat').length;
    // The handler ran until the third heartbeat; timers may fire late, never early: at most one per 25 ms it ran.
    expect(beats).toBeGreaterThanOrEqual(3);
    expect(beats).toBeLessThanOrEqual(Math.floor(ran / 25));
    expect(sent[0]).toBe('step.started');
    expect(sent.at(-1)).toBe('step.completed');
  });

  it('sends none when the command carries no interval, or the worker heartbeats by hand', async () => {
    expect(await attempt(null, 120)).toEqual(['step.started', 'step.completed']);
    expect(await attempt(20, 120, { autoHeartbeat: false })).toEqual(['step.started', 'step.completed']);
  });

  it('never overlaps beats: a slow one makes the next tick wait, and a failed one is logged, not thrown', async () => {
    let inFlight = 0;
    let most = 0;
    let calls = 0;
    const errors: unknown[] = [];
    const beats = heartbeats(
      5,
      async () => {
        calls++;
        inFlight++;
        most = Math.max(most, inFlight);
        await sleep(30);
        inFlight--;
        if (calls === 1) throw new Error('broker away');
      },
      (error) => errors.push(error),
    );
    await sleep(100);
    await beats.stop();
    const after = calls;
    await sleep(30);
    expect(most).toBe(1);
    expect(calls).toBeGreaterThanOrEqual(2);
    expect(calls).toBe(after);
    expect(errors).toEqual([new Error('broker away')]);
  });
});
