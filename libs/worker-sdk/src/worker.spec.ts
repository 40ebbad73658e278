import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from '@jest/globals';
import { createInMemoryBus, Topics } from '@orchestron/bus';
import type { DeliveredMessage, MessageBus, StepCommandMessage, StepEventMessage } from '@orchestron/bus';
import { AttemptCancelledError, createMemoryLedger, createWorker, RetryableError, TerminalError } from './index.ts';
import type { IdempotencyLedger, LedgerRetry, StepContext, StepHandler, Worker, WorkerOptions } from './index.ts';

const FAST_RETRY: LedgerRetry = { retries: 5, minTimeout: 1, maxTimeout: 5, factor: 2, randomize: false };

const TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

function command(overrides: Partial<StepCommandMessage> = {}): StepCommandMessage {
  const runId = overrides.runId ?? `run-${randomUUID()}`;
  const stepId = overrides.stepId ?? 'charge';
  const attempt = overrides.attempt ?? 1;
  return {
    type: 'step.execute',
    runId,
    stepId,
    attempt,
    worker: 'w',
    action: null,
    input: { amount: 5 },
    idempotencyKey: `${runId}/${stepId}/${attempt}`,
    deadline: null,
    heartbeatIntervalMs: null,
    definitionId: 'def',
    ...overrides,
  };
}

/** A bus with a spy on the step events and the dead letters, and the workers made on it. */
function setup(): {
  bus: MessageBus;
  events: StepEventMessage[];
  delivered: DeliveredMessage[];
  letters: DeliveredMessage[];
  worker(handlers: Record<string, StepHandler>, options?: Partial<WorkerOptions>): Promise<Worker>;
  send(message: StepCommandMessage | Record<string, unknown>, headers?: Record<string, string>): Promise<void>;
  until(predicate: (events: StepEventMessage[]) => boolean, what: string): Promise<void>;
} {
  const bus = createInMemoryBus();
  const events: StepEventMessage[] = [];
  const delivered: DeliveredMessage[] = [];
  const letters: DeliveredMessage[] = [];
  void bus.subscribe({ topics: [Topics.stepEvents], group: 'spy' }, async (m) => {
    delivered.push(m);
    events.push(m.value as StepEventMessage);
  });
  void bus.subscribe({ topics: [Topics.deadLetters], group: 'dlq-spy' }, async (m) => {
    letters.push(m);
  });
  return {
    bus,
    events,
    delivered,
    letters,
    async worker(handlers, options = {}) {
      // These tests follow every report, step.started included: it goes at once unless a test says otherwise.
      const w = createWorker({ name: 'w', bus, handlers, reportStartedAfterMs: 0, ...options });
      await w.start();
      started.push(w);
      return w;
    },
    send: (message, headers = { traceparent: TRACEPARENT }) =>
      bus.publish(Topics.commands('w'), [{ key: String(message.runId), value: message, headers }]),
    async until(predicate, what) {
      for (let i = 0; i < 500; i++) {
        if (predicate(events)) return;
        await sleep(5);
      }
      throw new Error(`timed out waiting for ${what}; events: ${JSON.stringify(events)}`);
    },
  };
}

const started: Worker[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((w) => w.stop()));
});

const types = (events: StepEventMessage[], runId: string): string[] =>
  events.filter((e) => e.runId === runId).map((e) => e.type);
const final = (events: StepEventMessage[], runId: string): StepEventMessage | undefined =>
  events.find((e) => e.runId === runId && (e.type === 'step.completed' || e.type === 'step.failed'));

describe('createWorker', () => {
  it("hands the handler its attempt and reports started, heartbeats and completed, each with the dispatch's traceparent", async () => {
    const t = setup();
    const seen: StepContext[] = [];
    await t.worker(
      {
        execute: async (ctx) => {
          seen.push(ctx);
          await ctx.heartbeat();
          await ctx.heartbeat();
          return { charged: ctx.input };
        },
      },
      { instance: 'i-1' },
    );
    const cmd = command({ deadline: Date.now() + 60_000 });
    await t.send(cmd);
    await t.until((e) => final(e, cmd.runId) !== undefined, 'completion');
    expect(types(t.events, cmd.runId)).toEqual(['step.started', 'step.heartbeat', 'step.heartbeat', 'step.completed']);
    expect(final(t.events, cmd.runId)).toEqual({
      type: 'step.completed',
      runId: cmd.runId,
      stepId: 'charge',
      attempt: 1,
      phase: 'execute',
      output: { charged: { amount: 5 } },
    });
    expect(t.delivered.map((m) => [m.key, m.headers?.traceparent])).toEqual(Array(4).fill([cmd.runId, TRACEPARENT]));
    const [ctx] = seen;
    expect({ ...ctx, signal: undefined, heartbeat: undefined, reportUsage: undefined }).toEqual({
      runId: cmd.runId,
      stepId: 'charge',
      attempt: 1,
      phase: 'execute',
      action: null,
      input: { amount: 5 },
      idempotencyKey: cmd.idempotencyKey,
      deadline: cmd.deadline,
      heartbeatIntervalMs: null,
      definitionId: 'def',
      worker: 'w',
      instance: 'i-1',
      traceparent: TRACEPARENT,
      signal: undefined,
      heartbeat: undefined,
    });
    expect(ctx?.signal.aborted).toBe(false);
  });

  it('reports a plain Error as retryable, and a TerminalError as not retryable with its code', async () => {
    const t = setup();
    await t.worker({
      execute: async (ctx) => {
        const mode = (ctx.input as { mode: string }).mode;
        if (mode === 'plain') throw new Error('socket hang up');
        if (mode === 'retryable') throw new RetryableError('rate limited', 'PAY.RATE_LIMITED');
        throw new TerminalError('card declined', 'PAY.DECLINED');
      },
    });
    const plain = command({ input: { mode: 'plain' } });
    const retryable = command({ input: { mode: 'retryable' } });
    const terminal = command({ input: { mode: 'terminal' } });
    for (const c of [plain, retryable, terminal]) await t.send(c);
    await t.until((e) => [plain, retryable, terminal].every((c) => final(e, c.runId)), 'three failures');
    expect(final(t.events, plain.runId)).toMatchObject({
      type: 'step.failed',
      error: { code: 'STEP.FAILED', message: 'socket hang up', retryable: true },
    });
    expect(final(t.events, retryable.runId)).toMatchObject({
      type: 'step.failed',
      error: { code: 'PAY.RATE_LIMITED', message: 'rate limited', retryable: true },
    });
    expect(final(t.events, terminal.runId)).toMatchObject({
      type: 'step.failed',
      error: { code: 'PAY.DECLINED', message: 'card declined', retryable: false },
    });
  });

  it("runs the handler of the command's action; a named action without a handler fails for good instead of running execute", async () => {
    const t = setup();
    let executed = 0;
    await t.worker({
      execute: async () => {
        executed++;
        return {};
      },
      refund: async (ctx) => ({ refunded: ctx.phase }),
    });
    const refund = command({ type: 'step.compensate', action: 'refund' });
    const unknown = command({ action: 'teleport' });
    await t.send(refund);
    await t.send(unknown);
    await t.until(
      (e) => final(e, refund.runId) !== undefined && final(e, unknown.runId) !== undefined,
      'both outcomes',
    );
    expect(final(t.events, refund.runId)).toMatchObject({
      type: 'step.completed',
      phase: 'compensate',
      output: { refunded: 'compensate' },
    });
    expect(final(t.events, unknown.runId)).toMatchObject({
      type: 'step.failed',
      error: { code: 'WORKER.NO_HANDLER', retryable: false },
    });
    expect(executed).toBe(0);
  });

  it('fails an attempt whose output is not JSON for good, naming the worker', async () => {
    const t = setup();
    await t.worker({ execute: async () => ({ amount: 10n }) });
    const cmd = command();
    await t.send(cmd);
    await t.until((e) => final(e, cmd.runId) !== undefined, 'failure');
    expect(final(t.events, cmd.runId)).toMatchObject({
      type: 'step.failed',
      error: { code: 'WORKER.OUTPUT_NOT_JSON', retryable: false },
    });
    expect(JSON.stringify(final(t.events, cmd.runId))).toContain('worker \\"w\\"');
  });

  it('dead-letters a command that does not match the wire schema, naming the bad field', async () => {
    const t = setup();
    let ran = 0;
    await t.worker({
      execute: async () => {
        ran++;
      },
    });
    await t.send({
      type: 'step.execute',
      runId: 'run-bad',
      stepId: 'a',
      attempt: 0,
      worker: 'w',
      action: null,
      idempotencyKey: 'k',
      deadline: null,
      heartbeatIntervalMs: null,
      definitionId: 'd',
    });
    for (let i = 0; i < 200 && t.letters.length === 0; i++) await sleep(5);
    expect(t.letters).toHaveLength(1);
    expect((t.letters[0]?.value as { reason: string }).reason).toMatch(/WireFormatError: .*\/attempt must be >= 1/);
    expect(ran).toBe(0);
  });
});

describe('cancellation', () => {
  it("aborts the signal when the attempt's deadline passes, with a deadline reason, and reports a retryable timeout", async () => {
    const t = setup();
    const reasons: unknown[] = [];
    await t.worker({
      execute: async (ctx) => {
        await new Promise((_, reject) =>
          ctx.signal.addEventListener('abort', () => {
            reasons.push(ctx.signal.reason);
            reject(ctx.signal.reason);
          }),
        );
      },
    });
    const cmd = command({ deadline: Date.now() + 50 });
    await t.send(cmd);
    await t.until((e) => final(e, cmd.runId) !== undefined, 'the timeout');
    expect(reasons).toHaveLength(1);
    expect(reasons[0]).toBeInstanceOf(AttemptCancelledError);
    expect((reasons[0] as AttemptCancelledError).kind).toBe('deadline');
    expect(final(t.events, cmd.runId)).toMatchObject({
      type: 'step.failed',
      error: { code: 'STEP.DEADLINE_EXCEEDED', retryable: true },
    });
  });

  it('does not run an attempt that arrives after its deadline: the orchestrator may already run the next one', async () => {
    const t = setup();
    let ran = 0;
    await t.worker({
      execute: async () => {
        ran++;
      },
    });
    const cmd = command({ deadline: Date.now() - 1 });
    await t.send(cmd);
    await t.until((e) => final(e, cmd.runId) !== undefined, 'the failure');
    expect(types(t.events, cmd.runId)).toEqual(['step.failed']);
    expect(final(t.events, cmd.runId)).toMatchObject({ error: { code: 'STEP.DEADLINE_EXCEEDED', retryable: true } });
    expect(ran).toBe(0);
  });

  it('stops taking commands on stop() and lets a running handler finish within the grace period', async () => {
    const t = setup();
    let release: () => void = () => undefined;
    let ran = 0;
    const worker = await t.worker(
      {
        execute: async (ctx) => {
          ran++;
          await new Promise<void>((r) => {
            release = r;
          });
          return { done: ctx.signal.aborted };
        },
      },
      { shutdownGraceMs: 30_000 },
    );
    const first = command();
    await t.send(first);
    await t.until((e) => types(e, first.runId).includes('step.started'), 'the start');
    const stopping = worker.stop();
    const late = command();
    await t.send(late);
    await sleep(20);
    release();
    await stopping;
    await t.until((e) => final(e, first.runId) !== undefined, 'the completion');
    expect(final(t.events, first.runId)).toMatchObject({ type: 'step.completed', output: { done: false } });
    expect(types(t.events, late.runId)).toEqual([]);
    expect(ran).toBe(1);
  });

  it('stays stopped when stop() comes while it is still joining its group', async () => {
    const bus = createInMemoryBus();
    let joined: () => void = () => undefined;
    const slowJoin: MessageBus = {
      ...bus,
      subscribe: async (options, handler) => {
        await new Promise<void>((r) => {
          joined = r;
        });
        return bus.subscribe(options, handler);
      },
    };
    let ran = 0;
    const worker = createWorker({
      name: 'w',
      bus: slowJoin,
      handlers: {
        execute: async () => {
          ran++;
          return {};
        },
      },
    });
    const starting = worker.start();
    const stopping = worker.stop();
    joined();
    await starting;
    await stopping;
    const delivered: DeliveredMessage[] = [];
    // A second member of the worker's group: had the stopped worker kept its subscription, it would get a share.
    await bus.subscribe({ topics: [Topics.commands('w')], group: 'orchestron-worker-w' }, async (m) => {
      delivered.push(m);
    });
    for (let i = 0; i < 4; i++) await bus.publish(Topics.commands('w'), [{ key: `run-${i}`, value: command() }]);
    for (let i = 0; i < 200 && delivered.length < 4; i++) await sleep(5);
    expect(delivered).toHaveLength(4);
    expect(ran).toBe(0);
  });

  it('aborts handlers still running when the grace period is over, with a shutdown reason, and does not report them', async () => {
    const t = setup();
    const reasons: unknown[] = [];
    const worker = await t.worker(
      {
        execute: async (ctx) => {
          await sleep(60_000, undefined, { signal: ctx.signal }).catch((error: unknown) => {
            reasons.push(ctx.signal.reason);
            throw error;
          });
        },
      },
      { shutdownGraceMs: 50 },
    );
    const cmd = command();
    await t.send(cmd);
    await t.until((e) => types(e, cmd.runId).includes('step.started'), 'the start');
    expect(worker.running).toBe(1);
    await worker.stop();
    await sleep(20);
    expect(worker.running).toBe(0);
    expect((reasons[0] as AttemptCancelledError).kind).toBe('shutdown');
    expect(types(t.events, cmd.runId)).toEqual(['step.started']);
  });
});

describe('idempotency', () => {
  it('runs a redelivered attempt once and answers the redelivery with the stored outcome', async () => {
    const t = setup();
    let ran = 0;
    await t.worker({ execute: async () => ({ run: ++ran }) });
    const cmd = command();
    await t.send(cmd);
    await t.until((e) => final(e, cmd.runId) !== undefined, 'the first completion');
    await t.send(cmd);
    await t.until(
      (e) => types(e, cmd.runId).filter((type) => type === 'step.completed').length === 2,
      'the second completion',
    );
    expect(types(t.events, cmd.runId)).toEqual(['step.started', 'step.completed', 'step.completed']);
    expect(
      t.events
        .filter((e) => e.runId === cmd.runId && e.type === 'step.completed')
        .map((e) => (e as { output: unknown }).output),
    ).toEqual([{ run: 1 }, { run: 1 }]);
    expect(ran).toBe(1);
  });

  it('stays silent for an attempt another instance is running; two instances on one ledger run each attempt once', async () => {
    const t = setup();
    const ledger = createMemoryLedger();
    const ranBy: string[] = [];
    const handler: StepHandler = async (ctx) => {
      ranBy.push(ctx.instance);
      await sleep(20);
      return { by: ctx.instance };
    };
    // Different groups: both instances get every command, as after a rebalance that hands a partition over mid-attempt.
    await t.worker({ execute: handler }, { ledger, instance: 'a', group: 'g-a' });
    await t.worker({ execute: handler }, { ledger, instance: 'b', group: 'g-b' });
    const commands = Array.from({ length: 10 }, () => command());
    for (const c of commands) await t.send(c);
    await t.until((e) => commands.every((c) => final(e, c.runId)), 'ten completions');
    await sleep(50);
    expect(ranBy).toHaveLength(10);
    for (const c of commands) expect(types(t.events, c.runId)).toEqual(['step.started', 'step.completed']);
  });

  it('reports a retryable failure without running the handler when the ledger cannot claim', async () => {
    const t = setup();
    let ran = 0;
    const broken: IdempotencyLedger = {
      claim: async () => {
        throw new Error('connection refused');
      },
      complete: async () => undefined,
    };
    await t.worker(
      {
        execute: async () => {
          ran++;
        },
      },
      { ledger: broken, ledgerRetry: FAST_RETRY },
    );
    const cmd = command();
    await t.send(cmd);
    await t.until((e) => final(e, cmd.runId) !== undefined, 'the failure');
    expect(final(t.events, cmd.runId)).toMatchObject({
      type: 'step.failed',
      error: { code: 'WORKER.LEDGER_UNAVAILABLE', retryable: true },
    });
    expect(ran).toBe(0);
  });

  it('given the ledger away for a moment (connections cut), tries again in place and runs the attempt once', async () => {
    const t = setup();
    let ran = 0;
    const inner = createMemoryLedger();
    let claimFailures = 2;
    let recordFailures = 2;
    const blinking: IdempotencyLedger = {
      claim: async (key, ctx) => {
        if (claimFailures-- > 0) throw new Error('terminating connection due to administrator command');
        return inner.claim(key, ctx);
      },
      complete: (key, outcome) => inner.complete(key, outcome),
      recordExecution: async () => {
        if (recordFailures-- > 0) throw new Error('Connection terminated unexpectedly');
      },
    };
    await t.worker({ execute: async () => void ran++ }, { ledger: blinking, ledgerRetry: FAST_RETRY });
    const cmd = command();
    await t.send(cmd);
    await t.until((e) => final(e, cmd.runId) !== undefined, 'the outcome');
    expect(final(t.events, cmd.runId)).toMatchObject({ type: 'step.completed' });
    expect(ran).toBe(1);
  });

  it('reports WORKER.LEDGER_UNAVAILABLE, not the database error, when the execution log stays away', async () => {
    const t = setup();
    let ran = 0;
    const inner = createMemoryLedger();
    const noLog: IdempotencyLedger = {
      claim: (key, ctx) => inner.claim(key, ctx),
      complete: (key, outcome) => inner.complete(key, outcome),
      recordExecution: async () => {
        throw Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' });
      },
    };
    await t.worker({ execute: async () => void ran++ }, { ledger: noLog, ledgerRetry: FAST_RETRY });
    const cmd = command();
    await t.send(cmd);
    await t.until((e) => final(e, cmd.runId) !== undefined, 'the failure');
    expect(final(t.events, cmd.runId)).toMatchObject({
      type: 'step.failed',
      error: {
        code: 'WORKER.LEDGER_UNAVAILABLE',
        retryable: true,
        message: expect.stringMatching(/record the execution/),
      },
    });
    expect(ran).toBe(0);
  });

  describe('reportStartedAfterMs', () => {
    it('tells a quick attempt by its outcome alone, and a slow one by step.started first', async () => {
      const t = setup();
      await t.worker(
        {
          execute: async (ctx) =>
            (ctx.input as { ms: number }).ms > 0 ? sleep((ctx.input as { ms: number }).ms) : null,
        },
        { reportStartedAfterMs: 60 },
      );
      const quick = command({ input: { ms: 0 } });
      const slow = command({ input: { ms: 200 } });
      await t.send(quick);
      await t.send(slow);
      await t.until((e) => final(e, quick.runId) !== undefined && final(e, slow.runId) !== undefined, 'both outcomes');
      expect(types(t.events, quick.runId)).toEqual(['step.completed']);
      expect(types(t.events, slow.runId)).toEqual(['step.started', 'step.completed']);
    });

    it('refuses a value that is not a number of ms', () => {
      const bus = createInMemoryBus();
      for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY])
        expect(() => createWorker({ name: 'w', bus, handlers: {}, reportStartedAfterMs: bad })).toThrow(
          /reportStartedAfterMs must be a number of ms, 0 or more/,
        );
    });
  });
});
