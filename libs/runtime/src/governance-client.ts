import { Topics } from '@orchestron/bus';
import type { GovernanceDecisionMessage, GovernanceRequestMessage, MessageBus } from '@orchestron/bus';
import type { RunData, StandingLookup } from '@orchestron/workflow-core';
import { inputDigest } from '@orchestron/workflow-core';
import { traceparentInRun } from './dispatch-messages.ts';
import { governanceRequestOf } from './governance-request.ts';
import { describeError } from './ports.ts';
import type { Clock, GovernanceCheck, GovernanceVerdict, Logger } from './ports.ts';
import { StandingRulings } from './standing-rulings.ts';

/** Backoff between tries of a transient failure: doubling from `initialMs`, capped at `maxMs`. */
export interface GovernanceRetry {
  readonly initialMs: number;
  readonly maxMs: number;
}

export const GOVERNANCE_RETRY_DEFAULTS: GovernanceRetry = { initialMs: 2_000, maxMs: 30_000 };

export interface GovernanceClientOptions {
  /** A function: governance in this process. `'bus'`: the governance service. Absent: everything is allowed. */
  readonly check: GovernanceCheck | 'bus' | undefined;
  readonly bus: MessageBus;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly stopped: () => boolean;
  /**
   * Records an in-process verdict, or a standing ruling's, on the run (over the bus, the decision comes back as a
   * message); `actor` defaults to `system:governance`.
   */
  readonly record: (
    runId: string,
    stepId: string,
    verdict: GovernanceVerdict,
    inputDigest: string,
    actor?: string,
  ) => Promise<void>;
  /**
   * Whether the step still waits for governance in a run that has not ended: asked before every retry, so no
   * retry goes on for a run that was cancelled, finished, or ruled on some other way.
   */
  readonly stillWaiting: (runId: string, stepId: string) => Promise<boolean>;
  readonly retry?: GovernanceRetry;
}

/**
 * Asks governance about a side-effecting step. Failing closed: until a verdict is recorded, the step waits.
 * A verdict is recorded once. Only transient failures are tried again (a check that throws something retryable,
 * the store away while recording, the bus refusing a request), with backoff, and each retry is a timer of its
 * run's: `forget` drops them when the run ends, `stop` when the engine does.
 */
export class GovernanceClient {
  private readonly options: GovernanceClientOptions;
  private readonly retry: GovernanceRetry;
  /**
   * `runId/stepId` → the request being handled: the input's digest, and the retry waiting to fire, if any. The same
   * request asked again (recovery) is not asked twice; a new input (an operator's retry) replaces the old request.
   */
  private readonly pending = new Map<
    string,
    { readonly digest: string; timer: ReturnType<typeof setTimeout> | null }
  >();

  /** Allows the governance service said hold for every run of a step, applied without asking (ADR 40). */
  readonly standing = new StandingRulings();

  constructor(options: GovernanceClientOptions) {
    this.options = options;
    this.retry = options.retry ?? GOVERNANCE_RETRY_DEFAULTS;
  }

  /**
   * The standing rulings a decision made at `now` may apply in place of asking (ADR 41): the decider records the
   * allow as the step's whole check. None unless governance is asked over the bus and has ruled so.
   */
  standingAt(now: number): StandingLookup | undefined {
    if (this.options.check !== 'bus' || this.standing.size === 0) return undefined;
    return (state, stepId, input) => this.standing.verdictFor(state, stepId, input, now);
  }

  /** A decision of the governance service arrived (before it is recorded on its run). */
  ruled(decision: GovernanceDecisionMessage): void {
    this.standing.ruled(decision);
  }

  request(state: RunData, stepId: string, input: unknown): void {
    const key = `${state.runId}/${stepId}`;
    const digest = inputDigest(input);
    const current = this.pending.get(key);
    if (current?.digest === digest) return;
    if (current?.timer) clearTimeout(current.timer);
    const entry = { digest, timer: null };
    this.pending.set(key, entry);
    const work =
      this.options.check === 'bus'
        ? () => this.askOrApplyStanding(state, stepId, input, digest)
        : () => this.decide(state, stepId, input, digest);
    void this.attempt(key, entry, state.runId, stepId, 1, work);
  }

  /** The run ended (or moved to another instance): no retry of its may fire. */
  forget(runId: string): void {
    for (const [key, entry] of this.pending) {
      if (!key.startsWith(`${runId}/`)) continue;
      if (entry.timer !== null) clearTimeout(entry.timer);
      this.pending.delete(key);
    }
  }

  stop(): void {
    for (const entry of this.pending.values()) if (entry.timer !== null) clearTimeout(entry.timer);
    this.pending.clear();
  }

  /** Retries waiting to fire (tests: none may be left once a run has ended). */
  get scheduledRetries(): number {
    return [...this.pending.values()].filter((entry) => entry.timer !== null).length;
  }

  private async attempt(
    key: string,
    entry: { timer: ReturnType<typeof setTimeout> | null },
    runId: string,
    stepId: string,
    attempt: number,
    work: () => Promise<void>,
  ): Promise<void> {
    const { logger, stopped } = this.options;
    // Forgotten, stopped, or replaced by a request about other input: this one is over.
    const current = (): boolean => !stopped() && this.pending.get(key) === entry;
    entry.timer = null;
    if (!current()) return;
    try {
      if (attempt > 1 && !(await this.options.stillWaiting(runId, stepId))) {
        if (current()) this.pending.delete(key);
        return;
      }
      await work();
      if (current()) this.pending.delete(key);
    } catch (error) {
      if (!current()) return;
      if (!isTransient(error)) {
        // Repeating it would fail the same way: say so once, and leave the step to its governance deadline.
        logger.error(
          'governance could not be asked or its ruling recorded, and trying again would not help; the step waits for its deadline',
          { runId, stepId, error: describeError(error) },
        );
        this.pending.delete(key);
        return;
      }
      const delay = Math.min(this.retry.initialMs * 2 ** (attempt - 1), this.retry.maxMs);
      logger.error('governance check not done; the step waits and it is tried again', {
        runId,
        stepId,
        attempt,
        retryInMs: delay,
        error: describeError(error),
      });
      // Never what keeps a process alive: forget and stop clear it anyway.
      entry.timer = setTimeout(() => void this.attempt(key, entry, runId, stepId, attempt + 1, work), delay);
      entry.timer.unref();
    }
  }

  /** In process: one verdict, recorded once. A check that throws a non-retryable error is itself the verdict. */
  private async decide(state: RunData, stepId: string, input: unknown, digest: string): Promise<void> {
    const { check, clock } = this.options;
    let verdict: GovernanceVerdict;
    try {
      verdict =
        typeof check === 'function'
          ? await check(governanceRequestOf(state, stepId, input, clock.now()))
          : { outcome: 'allow', policyId: null, reason: 'no governance check is configured' };
    } catch (error) {
      if (isTransient(error)) throw error;
      verdict = {
        outcome: 'deny',
        policyId: null,
        code: 'GOVERNANCE.UNEVALUABLE',
        reason: `governance could not evaluate the request: ${describeError(error)}`,
      };
    }
    if (verdict.code === 'GOVERNANCE.UNEVALUABLE')
      this.options.logger.warn('governance could not evaluate the request; recorded as a fail-closed decision', {
        runId: state.runId,
        stepId,
        reason: verdict.reason,
      });
    await this.options.record(state.runId, stepId, verdict, digest);
  }

  /** A standing ruling on the step is recorded at once (ADR 40); without one, governance is asked. */
  private async askOrApplyStanding(state: RunData, stepId: string, input: unknown, digest: string): Promise<void> {
    const verdict = this.standing.verdictFor(state, stepId, input, this.options.clock.now());
    if (verdict === null) return this.publish(state, stepId, input, digest, StandingRulings.keyOf(state, stepId));
    const { decidedBy, ...ruling } = verdict;
    return this.options.record(state.runId, stepId, ruling, digest, `system:governance:${decidedBy}`);
  }

  /**
   * Kafka keeps the request until the governance service reads it, so it is sent once (and again on recovery);
   * while nobody answers the step waits, and the decider's governance deadline escalates the run.
   */
  private async publish(state: RunData, stepId: string, input: unknown, digest: string, key: string): Promise<void> {
    const def = state.definition.steps[stepId];
    const request: GovernanceRequestMessage = {
      type: 'governance.request',
      requestId: `${state.runId}/${stepId}/${digest.slice(0, 16)}`,
      runId: state.runId,
      definitionId: state.definition.id,
      definitionVersion: state.definition.version,
      stepId,
      worker: def?.worker ?? '',
      action: def?.action ?? null,
      input,
      inputDigest: digest,
      runInput: state.input,
      actor: state.startedBy ?? null,
      requestedAt: this.options.clock.now(),
    };
    this.standing.asking(request.requestId, key, request.requestedAt);
    await this.options.bus.publish(Topics.governanceRequests, [
      { key: state.runId, value: request, headers: { traceparent: traceparentInRun(state.runId, request.requestId) } },
    ]);
  }
}

/** Errors say whether repeating can help (`retryable: false` on DomainError, UnevaluableRequestError, PolicyError); unknown ones might. */
function isTransient(error: unknown): boolean {
  return !(
    typeof error === 'object' &&
    error !== null &&
    'retryable' in error &&
    (error as { retryable: unknown }).retryable === false
  );
}
