import { quoteForMessage } from '@orchestron/definitions';
import type { RecordedEvent } from '@orchestron/event-store';
import { withSpan } from '@orchestron/telemetry';
import { DEFAULT_TENANT, DomainError, isStarted } from '@orchestron/workflow-core';
import type { Command, RunData } from '@orchestron/workflow-core';
import { sameJson } from './bus-commands.ts';
import type { DefinitionRegistry } from './definition-registry.ts';
import { runIdForKey } from './dispatch-messages.ts';
import type { Clock, Ids } from './ports.ts';
import type { Applied } from './run-commands.ts';
import type { StartRunRequest } from './run-service.ts';
import { forkStart } from './run-fork.ts';
import { keyMetadata, requireString } from './run-requests.ts';

export interface RunStartDeps {
  readonly definitions: DefinitionRegistry;
  readonly clock: Clock;
  readonly ids: Ids;
  /** Governance is configured: the run has every task step checked (`governEveryStep`). */
  readonly governed: boolean;
  /** A run's whole stream, in order (a fork reads its parent's). */
  readonly history: (runId: string) => Promise<readonly RecordedEvent[]>;
  readonly apply: (runId: string, command: Command, metadata: Readonly<Record<string, string>>) => Promise<Applied>;
}

/**
 * Starts a run: its definition (registered first when inline, else the version asked for in the tenant; a fork's
 * is its parent's), its id (derived from the idempotency key when there is one), and StartRun. The same key with another input is
 * RUN.ALREADY_EXISTS.
 */
export async function startRun(
  deps: RunStartDeps,
  request: StartRunRequest,
): Promise<{ run: RunData; created: boolean }> {
  const forked =
    request.fork === undefined ? undefined : forkStart(await deps.history(request.fork.runId), request.fork, request);
  const tenant = forked?.tenant ?? request.tenant ?? DEFAULT_TENANT;
  const definition = forked?.definition ?? (await definitionOf(deps, request, tenant));
  const input = forked !== undefined ? forked.input : (request.input ?? null);
  const runId =
    request.idempotencyKey !== undefined
      ? runIdForKey(definition.id, request.idempotencyKey, tenant)
      : deps.ids.newRunId();
  const data = {
    runId,
    definition,
    input,
    tenant,
    governEveryStep: deps.governed,
    ...(request.idempotencyKey !== undefined ? { idempotencyKey: request.idempotencyKey } : {}),
    ...(forked !== undefined ? { forkedFrom: forked.forkedFrom } : {}),
    ...(request.budget !== undefined ? { budget: request.budget } : {}),
  };
  const command: Command = { type: 'StartRun', data, metadata: { now: deps.clock.now(), actor: request.actor } };
  // Inside the run's trace from its first event, whoever asked (HTTP in one process, a Kafka start message here too).
  const { state, events } = await withSpan(
    'start run',
    { runId, attributes: { 'orchestron.definition.id': definition.id } },
    () => deps.apply(runId, command, keyMetadata(request.keyId)),
  );
  if (!isStarted(state)) throw new Error('run did not start');
  if (events.length === 0 && !sameJson(state.input, input)) {
    throw new DomainError(
      'RUN.ALREADY_EXISTS',
      `idempotency key ${quoteForMessage(String(request.idempotencyKey))} was already used for run ${runId} with a different input`,
      { runId },
    );
  }
  return { run: state, created: events.length > 0 };
}

/** The definition asked for: registered first when inline, else the version asked for in the tenant. */
async function definitionOf(deps: RunStartDeps, request: StartRunRequest, tenant: string) {
  if (request.definition !== undefined)
    return (await deps.definitions.register(request.definition, request.actor, tenant, request.keyId)).definition;
  return deps.definitions.get(
    requireString(request.definitionId, 'definitionId'),
    request.definitionVersion ?? 'latest',
    tenant,
  );
}
