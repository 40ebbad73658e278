import { describe, expect, it } from '@jest/globals';
import { Topics, WireFormatError } from '@orchestron/bus';
import type { DeliveredMessage } from '@orchestron/bus';
import { EventStoreUnavailableError } from '@orchestron/event-store';
import { DomainError } from '@orchestron/workflow-core';
import type { Unapplied } from '@orchestron/workflow-core';
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
      return { state: { status: 'none', version: 0 }, unapplied: null } as const;
    },
    startRun: async () => ({ created: true }),
    refused: async () => undefined,
    resolveDefinition: async () => ({}) as never,
  };
  return t;
}

/** A target whose every command decides nothing, for the reason given; it records what it logs. */
function unappliedTarget(unapplied: Unapplied): MessageTarget & { logged: [string, Record<string, unknown>][] } {
  const logged: [string, Record<string, unknown>][] = [];
  return {
    logged,
    logger: { ...silentLogger, debug: (m, f) => logged.push([m, f ?? {}]) },
    execute: async () => ({ state: { status: 'none', version: 0 }, unapplied }),
    startRun: async () => ({ created: false }),
    refused: async () => undefined,
    resolveDefinition: async () => ({}) as never,
  };
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

describe('a message that changes nothing never vanishes', () => {
  const ghost = (runId: string): DeliveredMessage => ({
    ...report(runId),
    value: { type: 'step.completed', runId, stepId: 'ghost', attempt: 3, phase: 'execute' },
  });

  it('a known no-op is logged at debug with its reason, and nothing is thrown', async () => {
    const t = unappliedTarget({
      type: 'Ignore',
      data: { reason: 'attempt_settled', message: 'attempt 1 of step "s" is over: it is completed' },
    });
    await handleRunMessage(t, report('r-4'));
    expect(t.logged).toEqual([
      [
        'message changed nothing',
        {
          runId: 'r-4',
          messageType: 'step.completed',
          stepId: 's',
          attempt: 1,
          phase: 'execute',
          reason: 'attempt_settled',
          detail: 'attempt 1 of step "s" is over: it is completed',
        },
      ],
    ]);
  });

  it('a duplicate start is a no-op logged at debug', async () => {
    const t = unappliedTarget({ type: 'Ignore', data: { reason: 'duplicate_start', message: '' } });
    await handleRunMessage(t, {
      ...report('r'),
      topic: Topics.workflowStarts,
      value: { type: 'workflow.start', definitionId: 'pay', idempotencyKey: 'k-1' },
    });
    expect(t.logged).toEqual([['message changed nothing', expect.objectContaining({ reason: 'duplicate_start' })]]);
  });

  it('a rejected report throws a DomainError naming the message, the run, the step and the code, for the bus to dead-letter', async () => {
    const t = unappliedTarget({
      type: 'Reject',
      data: { code: 'STEP.NOT_FOUND', message: 'the run has no step "ghost" (definition "wf" v1)' },
    });
    const thrown = await handleRunMessage(t, ghost('r-5')).then(
      () => null,
      (error: unknown) => error,
    );
    expect(thrown).toBeInstanceOf(DomainError);
    expect(thrown).toMatchObject({
      code: 'STEP.NOT_FOUND',
      message:
        'step.completed for run "r-5" rejected (STEP.NOT_FOUND): the run has no step "ghost" (definition "wf" v1)',
      details: { runId: 'r-5', stepId: 'ghost', attempt: 3 },
    });
    expect(t.logged).toEqual([]);
  });

  it('a rejected governance decision is thrown too', async () => {
    const t = unappliedTarget({ type: 'Reject', data: { code: 'RUN.NOT_FOUND', message: 'the run does not exist' } });
    const decision = {
      type: 'governance.decision',
      requestId: 'q',
      runId: 'nobody',
      stepId: 's',
      outcome: 'allow',
      policyId: null,
      reason: 'ok',
      inputDigest: 'a'.repeat(64),
      decidedAt: 1,
      decidedBy: 'g',
    };
    await expect(
      handleRunMessage(t, { ...report('nobody'), topic: Topics.governanceDecisions, value: decision }),
    ).rejects.toThrow('governance.decision for run "nobody" rejected (RUN.NOT_FOUND): the run does not exist');
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

  it("refuses a forged child outcome or a parent's compensation request: only the runtime sends those", () => {
    const forged = (type: string, data: object) => ({
      type: 'operator.command',
      commandId: 'c',
      runId: 'r',
      actor: 'mallory',
      command: { type, data },
    });
    const outcome = { stepId: 'provision', childRunId: 'x', status: 'completed', output: { paid: true } };
    expect(() =>
      toRunMessage({ ...at, topic: Topics.operatorCommands, value: forged('RecordChildOutcome', outcome) }),
    ).toThrow(/"RecordChildOutcome" is not an operator command/);
    expect(() =>
      toRunMessage({ ...at, topic: Topics.operatorCommands, value: forged('CompensateForParent', {}) }),
    ).toThrow(/"CompensateForParent" is not an operator command/);
  });
});
