import { Topics } from '@orchestron/bus';
import type { GovernanceRequestMessage, MessageBus } from '@orchestron/bus';
import type { RunData } from '@orchestron/workflow-core';
import { inputDigest } from './bus-commands.ts';
import { traceparentInRun } from './dispatch-messages.ts';
import type { Clock, GovernanceCheck, GovernanceVerdict, Logger } from './ports.ts';

const RETRY_MS = 2000;

export interface GovernanceClientOptions {
  /** A function: governance in this process. `'bus'`: the governance service. Absent: everything is allowed. */
  readonly check: GovernanceCheck | 'bus' | undefined;
  readonly bus: MessageBus;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly stopped: () => boolean;
  /** Records an in-process verdict on the run (over the bus, the decision comes back as a message). */
  readonly record: (runId: string, stepId: string, verdict: GovernanceVerdict) => Promise<void>;
}

/** Asks governance about a side-effecting step. Failing closed: until a verdict is recorded, the step waits. */
export class GovernanceClient {
  private readonly options: GovernanceClientOptions;
  private readonly pending = new Set<string>();

  constructor(options: GovernanceClientOptions) {
    this.options = options;
  }

  request(state: RunData, stepId: string, input: unknown): void {
    if (this.options.check === 'bus') {
      void this.publish(state, stepId, input);
      return;
    }
    const key = `${state.runId}/${stepId}`;
    if (this.pending.has(key)) return;
    this.pending.add(key);
    const { check, clock, logger } = this.options;
    const def = state.definition.steps[stepId];
    const ask = async (): Promise<void> => {
      if (this.options.stopped()) return;
      try {
        const verdict = typeof check === 'function'
          ? await check({ runId: state.runId, definitionId: state.definition.id, definitionVersion: state.definition.version, stepId, worker: def?.worker ?? '', ...(def?.action ? { action: def.action } : {}), input, runInput: state.input, actor: state.startedBy, now: clock.now() })
          : { outcome: 'allow' as const, policyId: null, reason: 'no governance check is configured' };
        this.pending.delete(key);
        await this.options.record(state.runId, stepId, verdict);
      } catch (error) {
        // Fail closed: the step waits, and we ask again.
        logger.error('governance check failed; the step waits', { runId: state.runId, stepId, error: describe(error) });
        setTimeout(() => void ask(), RETRY_MS);
      }
    };
    void ask();
  }

  /**
   * Kafka keeps the request until the governance service reads it, so it is sent once (and again on recovery);
   * while nobody answers the step waits, and the decider's governance deadline escalates the run.
   */
  private async publish(state: RunData, stepId: string, input: unknown): Promise<void> {
    const def = state.definition.steps[stepId];
    const digest = inputDigest(input);
    const request: GovernanceRequestMessage = {
      type: 'governance.request', requestId: `${state.runId}/${stepId}/${digest.slice(0, 16)}`, runId: state.runId, definitionId: state.definition.id,
      definitionVersion: state.definition.version, stepId, worker: def?.worker ?? '', action: def?.action ?? null, input, inputDigest: digest,
      runInput: state.input, actor: state.startedBy ?? null, requestedAt: this.options.clock.now(),
    };
    for (let attempt = 1; !this.options.stopped(); attempt++) {
      try {
        await this.options.bus.publish(Topics.governanceRequests, [{ key: state.runId, value: request, headers: { traceparent: traceparentInRun(state.runId, request.requestId) } }]);
        return;
      } catch (error) {
        this.options.logger.error('governance request not sent; trying again', { runId: state.runId, stepId, attempt, error: describe(error) });
        await new Promise((resolve) => setTimeout(resolve, Math.min(RETRY_MS * attempt, 30_000)));
      }
    }
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
