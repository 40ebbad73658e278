import type { CompiledDefinition } from '@orchestron/definitions';
import type { RecordedEvent } from '@orchestron/event-store';
import { DomainError, forkOf, isStarted } from '@orchestron/workflow-core';
import type { RunFork } from '@orchestron/workflow-core';
import { replay } from './replay.ts';
import type { ForkRequest } from './run-service.ts';
import { runAsOf } from './time-travel.ts';

/** What a fork starts from: its parent's pinned definition and tenant, its input, and the steps done by then. */
export interface ForkStart {
  readonly definition: CompiledDefinition;
  readonly input: unknown;
  readonly tenant: string;
  readonly forkedFrom: RunFork;
}

/**
 * Builds a fork from its parent's history (the whole stream, in order). `input` undefined keeps the parent's; the
 * start checks any input against the definition's schema. A parent that does not exist, or is not in `tenant` when
 * one is given, is RUN.NOT_FOUND; a revision past its newest is COMMAND.INVALID naming `at`.
 */
export function forkStart(
  history: readonly RecordedEvent[],
  fork: ForkRequest,
  scope: { readonly input?: unknown; readonly tenant?: string | undefined },
): ForkStart {
  const first = replay(history.slice(0, 1));
  if (!isStarted(first) || (scope.tenant !== undefined && first.tenant !== scope.tenant))
    throw new DomainError('RUN.NOT_FOUND', `run ${JSON.stringify(fork.runId)} does not exist`, { runId: fork.runId });
  if (!Number.isSafeInteger(fork.revision) || fork.revision < 0)
    throw new DomainError('COMMAND.INVALID', `at must be a revision (a non-negative integer), not ${fork.revision}`, {
      field: 'at',
    });
  const past = runAsOf(history, { revision: fork.revision });
  if ('refused' in past) throw new DomainError('COMMAND.INVALID', past.refused, { field: 'at' });
  return {
    definition: past.run.definition,
    input: scope.input === undefined ? past.run.input : scope.input,
    tenant: past.run.tenant,
    forkedFrom: forkOf(past.run, past.revision, fork.reason ?? null),
  };
}
