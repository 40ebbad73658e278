import { randomUUID } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { createInMemoryBus, Topics } from '@orchestron/bus';
import type { MessageBus, StepCommandMessage } from '@orchestron/bus';
import { createMemoryLedger, createWorker, WORKER_CHECK_ACTION, workerCheckHandler } from '@orchestron/worker-sdk';
import type { IdempotencyLedger } from '@orchestron/worker-sdk';
import { resultLine, runWorkerCheck } from './kit.ts';
import { CHECK_ACTION } from './protocol.ts';
import { SCENARIOS } from './scenarios.ts';

const only = (...names: string[]) => SCENARIOS.filter((s) => names.includes(s.name));

function check(bus: MessageBus, worker: string, scenarios = SCENARIOS) {
  return runWorkerCheck({
    bus,
    names: Topics,
    worker,
    checkId: randomUUID().slice(0, 8),
    // Generous: under a busy test run an in-process delivery can take seconds; a passing scenario does not wait it out.
    timeoutMs: 5_000,
    settleMs: 150,
    scenarios,
  });
}

async function sdkWorker(bus: MessageBus, ledger: IdempotencyLedger = createMemoryLedger()) {
  const worker = createWorker({
    name: `w-${randomUUID().slice(0, 8)}`,
    bus,
    ledger,
    handlers: { [WORKER_CHECK_ACTION]: workerCheckHandler },
  });
  await worker.start();
  return worker;
}

describe('runWorkerCheck (in-process bus)', () => {
  it('the CLI sends the action the SDK has a handler for', () => {
    expect(CHECK_ACTION).toBe(WORKER_CHECK_ACTION);
  });

  it('passes every scenario against a worker of the TypeScript SDK with workerCheckHandler', async () => {
    const bus = createInMemoryBus();
    const worker = await sdkWorker(bus);
    try {
      const results = await check(bus, worker.name);
      expect(results.map(resultLine)).toEqual(SCENARIOS.map((s) => `pass  ${s.name}`));
    } finally {
      await worker.stop();
      await bus.close();
    }
  });

  it('says "executed twice" for a worker whose ledger lets every delivery run', async () => {
    const bus = createInMemoryBus();
    const forgetful: IdempotencyLedger = { claim: async () => ({ state: 'claimed' }), complete: async () => undefined };
    const worker = await sdkWorker(bus, forgetful);
    try {
      const results = await check(bus, worker.name, only('duplicate', 'duplicate-in-flight'));
      expect(results.map((r) => r.ok)).toEqual([false, false]);
      for (const result of results) expect(result.violations.join('; ')).toMatch(/executed twice \(/);
      const [duplicate] = results;
      expect(duplicate && resultLine(duplicate)).toMatch(
        /^FAIL {2}duplicate: executed twice \(2 outcome reports for key worker-check-\w+-duplicate\/check\/1 with 2 different/,
      );
    } finally {
      await worker.stop();
      await bus.close();
    }
  });

  it('names every violation of a careless hand-written worker: past its deadline, untraced', async () => {
    const bus = createInMemoryBus();
    const worker = `careless-${randomUUID().slice(0, 8)}`;
    // Runs whatever comes, at once, and answers without the command's traceparent.
    const subscription = await bus.subscribe({ topics: [Topics.commands(worker)], group: 'careless' }, async (m) => {
      const c = m.value as StepCommandMessage;
      const output = { nonce: (c.input as { nonce: string }).nonce, execution: randomUUID() };
      const report = {
        type: 'step.completed',
        runId: c.runId,
        stepId: c.stepId,
        attempt: c.attempt,
        phase: 'execute',
        output,
      };
      await bus.publish(Topics.stepEvents, [{ key: c.runId, value: report }]);
    });
    try {
      const [deadline, compensate] = await check(bus, worker, only('past-deadline', 'compensate'));
      expect(deadline?.violations).toEqual([
        `report 1 has no traceparent header (echo the command's, see "Headers")`,
        'ran a command past its deadline (step.completed; expected step.failed STEP.DEADLINE_EXCEEDED)',
      ]);
      expect(compensate?.violations).toEqual([
        expect.stringMatching(
          /^no outcome report within 5000 ms for key worker-check-\w+-compensate\/check\/compensate\/1 /,
        ),
        'report 1 is about execute attempt 1, which was never sent',
      ]);
    } finally {
      await subscription.close();
      await bus.close();
    }
  });

  it('says when no worker answers, naming the topic it waited on', async () => {
    const bus = createInMemoryBus();
    try {
      const [execute] = await check(bus, 'nobody', only('execute'));
      expect(execute?.violations).toEqual([
        expect.stringMatching(
          new RegExp(
            `^no outcome report within 5000 ms for key worker-check-\\w+-execute/check/1 \\(is the worker running, reading ${Topics.commands('nobody').replace(/\./g, '\\.')}\\?\\)$`,
          ),
        ),
      ]);
    } finally {
      await bus.close();
    }
  });
});
