import { afterEach, describe, expect, it } from '@jest/globals';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInMemoryBus } from '@orchestron/bus';
import { createSqliteEventStore } from '@orchestron/store-sqlite';
import type { EventData, EventStore, RecordedEvent } from '@orchestron/event-store';
import { fold } from '@orchestron/workflow-core';
import type { WorkflowEvent } from '@orchestron/workflow-core';
import { createWorker } from '@orchestron/worker-sdk';
import type { Worker } from '@orchestron/worker-sdk';
import { Engine } from './engine.ts';

/**
 * ADR 38: a store written before the events that set a due time armed their timer holds a TimerScheduled after each
 * dispatch, release and retry. An engine of today takes such runs over as it would its own.
 */
const definition = {
  id: 'flaky-chain',
  version: 1,
  defaults: { retry: { maxAttempts: 5, backoff: 'fixed', initialDelay: '300ms', jitter: 'none' }, timeout: '10s' },
  steps: {
    first: { worker: 'w' },
    second: { worker: 'w', needs: ['first'] },
  },
};

type Data = Record<string, unknown>;

/** The TimerScheduled the decider recorded after this event before ADR 38, spelled out as it did. */
function scheduledAfter(event: RecordedEvent): EventData | null {
  const d = event.data as Data;
  const scope = d['phase'] === 'execute' ? '' : 'compensate:';
  const base = { stepId: d['stepId'], phase: d['phase'] };
  if ((event.type === 'StepDispatched' || event.type === 'StepReleased') && d['timeoutAt'] !== null) {
    const what = event.type === 'StepDispatched' ? 'timeout' : `timeout@${String(d['timeoutAt'])}`;
    const id = `${scope}${String(d['stepId'])}:${String(d['attempt'])}:${what}`;
    const timer = { id, kind: 'attempt_timeout', ...base, attempt: d['attempt'], dueAt: d['timeoutAt'] };
    return { type: 'TimerScheduled', data: { timer }, metadata: event.metadata };
  }
  if (event.type === 'StepRetryScheduled') {
    const id = `${scope}${String(d['stepId'])}:${String(d['nextAttempt'])}:retry`;
    const timer = { id, kind: 'retry', ...base, attempt: d['nextAttempt'], dueAt: d['retryAt'] };
    return { type: 'TimerScheduled', data: { timer }, metadata: event.metadata };
  }
  return null;
}

/** Copies every stream of `from` into `to`, the run streams as they were recorded before ADR 38. */
async function copyAsRecordedBefore(from: EventStore, to: EventStore): Promise<void> {
  for (const event of await from.readAll({ after: 0 })) {
    const copy: EventData = { type: event.type, data: event.data, metadata: event.metadata };
    const timer = event.streamId.startsWith('run-') ? scheduledAfter(event) : null;
    await to.append(event.streamId, timer === null ? [copy] : [copy, timer]);
  }
}

describe('an engine taking over runs recorded before ADR 38', () => {
  const open: { engine: Engine; store: EventStore; worker: Worker }[] = [];
  afterEach(async () => {
    for (const o of open.splice(0)) await close(o);
  });
  const close = async (o: { engine: Engine; store: EventStore; worker: Worker }) => {
    await o.worker.stop();
    await o.engine.stop();
    await o.store.close();
  };

  const boot = async (path: string, failFirstAttemptOf: string | null) => {
    const store = createSqliteEventStore({ path });
    const bus = createInMemoryBus();
    const engine = new Engine({ store, bus });
    const worker = createWorker({
      name: 'w',
      bus,
      handlers: {
        execute: async (ctx) => {
          if (ctx.stepId === failFirstAttemptOf && ctx.attempt === 1) throw new Error('first attempt fails');
          return { step: ctx.stepId, attempt: ctx.attempt };
        },
      },
    });
    await worker.start();
    await engine.start();
    const booted = { engine, store, worker };
    open.push(booted);
    return booted;
  };

  it('arms the retry of a run that waits for one, fires it, and completes the run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'orchestron-old-histories-'));
    const first = await boot(join(dir, 'now.sqlite'), 'second');
    await first.engine.definitions.register(definition, 'test');
    const { run } = await first.engine.startRun({ definitionId: 'flaky-chain', input: {}, actor: 'test' });
    for (let i = 0; i < 200 && (await first.engine.getRun(run.runId))?.steps.second?.status !== 'retry_scheduled'; i++)
      await new Promise((r) => setTimeout(r, 5));
    expect((await first.engine.getRun(run.runId))?.steps.second?.status).toBe('retry_scheduled');
    await close(open.pop() as (typeof open)[number]);

    const now = createSqliteEventStore({ path: join(dir, 'now.sqlite') });
    const before = createSqliteEventStore({ path: join(dir, 'before.sqlite') });
    await copyAsRecordedBefore(now, before);
    const recorded = await before.readStream(`run-${run.runId}`);
    await Promise.all([now.close(), before.close()]);
    const taken = fold(recorded.map((e) => ({ type: e.type, data: e.data }) as WorkflowEvent));
    expect(taken).toMatchObject({ status: 'running', steps: { second: { status: 'retry_scheduled' } } });
    expect(Object.keys(taken.status === 'none' ? {} : taken.timers)).toEqual(['second:2:retry']);
    // Only the retry's timer fires the second attempt: recovery resends attempts out, not retries due.
    const second = await boot(join(dir, 'before.sqlite'), null);
    for (let i = 0; i < 500 && (await second.engine.getRun(run.runId))?.status !== 'completed'; i++)
      await new Promise((r) => setTimeout(r, 10));
    expect((await second.engine.getRun(run.runId))?.steps.second).toMatchObject({ status: 'completed', attempt: 2 });
    // The old part of the history keeps its TimerScheduled events; what the engine records now has none.
    const types = (await second.engine.history(run.runId)).map((e) => e.type);
    const retried = types.indexOf('TimerFired');
    expect(types.slice(0, retried).filter((t) => t === 'TimerScheduled')).toHaveLength(3);
    expect(types.slice(retried)).toEqual(['TimerFired', 'StepDispatched', 'StepCompleted', 'RunCompleted']);
  });
});
