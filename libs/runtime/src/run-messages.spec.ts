import { describe, expect, it } from '@jest/globals';
import { Topics } from '@orchestron/bus';
import type { DeliveredMessage } from '@orchestron/bus';
import { EventStoreUnavailableError } from '@orchestron/event-store';
import { DomainError } from '@orchestron/workflow-core';
import { silentLogger } from './ports.ts';
import { handleRunMessage } from './run-messages.ts';
import type { MessageTarget } from './run-messages.ts';

const report = (runId: string): DeliveredMessage => ({
  topic: Topics.stepEvents, partition: 0, offset: 0, key: runId, headers: {},
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
    const t = target([new EventStoreUnavailableError('down for a moment'), new EventStoreUnavailableError('still down')]);
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
    await expect(handleRunMessage(t, { ...report('r-3'), value: { type: 'step.completed' } })).rejects.toThrow(/not a valid step event/);
    expect(t.calls).toBe(0);
  });
});
