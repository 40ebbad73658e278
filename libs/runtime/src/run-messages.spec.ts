import { describe, expect, it } from '@jest/globals';
import { Topics, WireFormatError } from '@orchestron/bus';
import type { DeliveredMessage } from '@orchestron/bus';
import { EventStoreUnavailableError } from '@orchestron/event-store';
import { DomainError } from '@orchestron/workflow-core';
import { silentLogger } from './ports.ts';
import { runIdForKey } from './dispatch-messages.ts';
import { handleRunMessage, toRunMessage } from './run-messages.ts';
import type { MessageTarget } from './run-messages.ts';

const report = (runId: string): DeliveredMessage => ({
  topic: Topics.stepEvents,
  partition: 0,
  offset: 0,
  key: runId,
  headers: {},
  value: { type: 'step.completed', runId, stepId: 's', attempt: 1, phase: 'execute', output: {} },
});

/** A target whose execute fails as told, counting the calls. Pure code under test: no store, no bus. */
function target(failures: readonly unknown[]): MessageTarget & { calls: number } {
  const t = {
    calls: 0,
    logger: silentLogger,
    async execute() {
      const failure = failures[t.calls++];
      if (failure !== undefined) throw failure;
      return {} as never;
    },
    startRun: async () => undefined,
    refused: async () => undefined,
    resolveDefinition: async () => ({}) as never,
  };
  return t;
}

describe('handling a run message', () => {
  it('retries a transient failure (the store briefly away) in place, then succeeds', async () => {
    const t = target([
      new EventStoreUnavailableError('down for a moment'),
      new EventStoreUnavailableError('still down'),
    ]);
    await handleRunMessage(t, report('r-1'));
    expect(t.calls).toBe(3);
  }, 20_000);

  it('does not retry what cannot succeed by repeating it: it throws at once, for the bus to dead-letter', async () => {
    const t = target([new DomainError('RUN.NOT_FOUND', 'run r-2 does not exist')]);
    await expect(handleRunMessage(t, report('r-2'))).rejects.toMatchObject({ code: 'RUN.NOT_FOUND' });
    expect(t.calls).toBe(1);
  });

  it('throws a malformed message without running anything', async () => {
    const t = target([]);
    await expect(handleRunMessage(t, { ...report('r-3'), value: { type: 'step.completed' } })).rejects.toThrow(
      /not a valid step event/,
    );
    expect(t.calls).toBe(0);
  });
});

describe('toRunMessage: what a message asks of its run, decided from the message alone', () => {
  const at = { partition: 0, offset: 0, key: 'k', headers: {} };
  const digest = 'a'.repeat(64);

  it("turns each topic's message into its run and command, without touching anything", () => {
    expect(
      toRunMessage({
        ...at,
        topic: Topics.stepEvents,
        value: {
          type: 'step.failed',
          runId: 'r',
          stepId: 's',
          attempt: 2,
          phase: 'compensate',
          error: { message: 'no' },
        },
      }),
    ).toEqual({
      kind: 'report',
      runId: 'r',
      command: {
        type: 'RecordStepFailed',
        data: {
          stepId: 's',
          attempt: 2,
          phase: 'compensate',
          error: { code: 'STEP.FAILED', message: 'no', retryable: true },
        },
      },
    });
    expect(
      toRunMessage({
        ...at,
        topic: Topics.workflowStarts,
        value: { type: 'workflow.start', definitionId: 'pay', idempotencyKey: 'k-1', tenant: 'acme', input: { n: 1 } },
      }),
    ).toEqual({
      kind: 'start',
      runId: runIdForKey('pay', 'k-1', 'acme'),
      request: {
        definitionId: 'pay',
        definitionVersion: 'latest',
        input: { n: 1 },
        idempotencyKey: 'k-1',
        actor: 'producer:kafka',
        tenant: 'acme',
      },
    });
    const order = {
      type: 'operator.command',
      commandId: 'c',
      runId: 'r',
      actor: 'operator:ann',
      command: { type: 'Cancel', data: { reason: 'x' } },
    };
    expect(toRunMessage({ ...at, topic: Topics.operatorCommands, value: order })).toEqual({
      kind: 'operator',
      runId: 'r',
      command: { type: 'Cancel', data: { reason: 'x' } },
      order,
    });
    const decision = {
      type: 'governance.decision',
      requestId: 'q',
      runId: 'r',
      stepId: 's',
      outcome: 'deny',
      policyId: null,
      reason: 'no',
      code: 'GOVERNANCE.UNEVALUABLE',
      inputDigest: digest,
      decidedAt: 1,
      decidedBy: 'g',
    };
    expect(toRunMessage({ ...at, topic: Topics.governanceDecisions, value: decision })).toMatchObject({
      kind: 'governance',
      runId: 'r',
      command: {
        type: 'RecordGovernanceDecision',
        data: {
          stepId: 's',
          outcome: 'deny',
          policyId: null,
          reason: 'no',
          code: 'GOVERNANCE.UNEVALUABLE',
          inputDigest: digest,
        },
      },
    });
  });

  it('refuses a topic the orchestrator does not consume, and a forged command, as wire errors (dead-lettered)', () => {
    expect(() => toRunMessage({ ...at, topic: 'orchestron.elsewhere', value: {} })).toThrow(WireFormatError);
    const forged = {
      type: 'operator.command',
      commandId: 'c',
      runId: 'r',
      actor: 'mallory',
      command: { type: 'RecordStepCompleted', data: {} },
    };
    expect(() => toRunMessage({ ...at, topic: Topics.operatorCommands, value: forged })).toThrow(
      /is not an operator command/,
    );
  });
});
