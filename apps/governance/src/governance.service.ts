import { Inject, Injectable } from '@nestjs/common';
import type { GovernanceDecisionMessage, GovernanceRequestMessage } from '@orchestron/bus';
import { UNEVALUABLE_CODE } from '@orchestron/policy';
import type { GovernanceDecision, GovernanceRequest, PolicyEngine } from '@orchestron/policy';
import type { Clock, Logger } from '@orchestron/runtime';
import { GOVERNANCE_LOGGER, GOVERNANCE_POLICIES, GOVERNANCE_SETTINGS } from './governance.tokens.ts';

/** Where the policies in force come from (a `PolicyStore`, which swaps them on reload). */
export interface PolicyProvider {
  engine(): PolicyEngine;
}

export interface GovernanceSettings {
  /** Recorded as `decidedBy` on every decision. */
  readonly instance: string;
  /** Stamps `decidedAt` only: what a decision says depends on the request alone. */
  readonly clock: Clock;
  /** How long an allow that holds for every run of the step may be applied without asking; 0: never (ADR 40). */
  readonly standingMs: number;
}

/**
 * Rules on one governance request: Cedar evaluates it at the time the orchestrator asked (`requestedAt`),
 * so the same request always gets the same outcome, whichever instance answers and however late.
 * A request that cannot be evaluated at all (a lone surrogate, a value nested too deep, a `requestedAt` that is no
 * time) gets a fail-closed deny with code GOVERNANCE.UNEVALUABLE, published like any decision: throwing would
 * dead-letter the request and leave the step waiting until its deadline, though asking again cannot help.
 */
export class GovernanceService {
  readonly #policies: PolicyProvider;
  readonly #settings: GovernanceSettings;
  readonly #logger: Logger;

  constructor(policies: PolicyProvider, settings: GovernanceSettings, logger: Logger) {
    this.#policies = policies;
    this.#settings = settings;
    this.#logger = logger;
  }

  decide(request: GovernanceRequestMessage): GovernanceDecisionMessage {
    const decision = evaluate(this.#policies.engine(), toPolicyRequest(request));
    if (decision.code === UNEVALUABLE_CODE) {
      this.#logger.warn('a governance request could not be evaluated; denied (fail closed)', {
        requestId: request.requestId,
        runId: request.runId,
        stepId: request.stepId,
        reason: decision.reason,
      });
    } else if (decision.errors !== undefined) {
      // Cedar skipped these policies; the engine already denied if a skipped one was a forbid.
      this.#logger.warn('policies could not be evaluated for a request', {
        requestId: request.requestId,
        runId: request.runId,
        stepId: request.stepId,
        outcome: decision.outcome,
        errors: decision.errors,
      });
    }
    return {
      type: 'governance.decision',
      requestId: request.requestId,
      runId: request.runId,
      stepId: request.stepId,
      inputDigest: request.inputDigest,
      outcome: decision.outcome,
      policyId: decision.policyId,
      reason: decision.reason,
      ...(decision.code === undefined ? {} : { code: decision.code }),
      ...(decision.standing === undefined || this.#settings.standingMs === 0
        ? {}
        : { standing: { ...decision.standing, forMs: this.#settings.standingMs } }),
      decidedAt: this.#settings.clock.now(),
      decidedBy: this.#settings.instance,
    };
  }
}
Reflect.decorate([Injectable()], GovernanceService);
Inject(GOVERNANCE_POLICIES)(GovernanceService, undefined, 0);
Inject(GOVERNANCE_SETTINGS)(GovernanceService, undefined, 1);
Inject(GOVERNANCE_LOGGER)(GovernanceService, undefined, 2);

/** The engine decides unevaluable requests itself; a `now` that is no time is the one thing it throws for. */
function evaluate(engine: PolicyEngine, request: GovernanceRequest): GovernanceDecision {
  try {
    return engine.evaluate(request);
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    return {
      outcome: 'deny',
      code: UNEVALUABLE_CODE,
      policyId: null,
      policyIds: [],
      reason: `Cedar could not evaluate the request: ${error.message}`,
    };
  }
}

export function toPolicyRequest(request: GovernanceRequestMessage): GovernanceRequest {
  return {
    runId: request.runId,
    definitionId: request.definitionId,
    definitionVersion: request.definitionVersion,
    stepId: request.stepId,
    worker: request.worker,
    ...(request.action === null ? {} : { action: request.action }),
    input: request.input,
    runInput: request.runInput,
    ...(request.actor === null ? {} : { actor: request.actor }),
    now: request.requestedAt,
  };
}
