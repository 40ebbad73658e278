export type GovernanceOutcome = 'allow' | 'deny' | 'require_approval';
/** Why a deny is not a policy's ruling: Cedar could not evaluate the request at all. */
export type GovernanceDecisionCode = 'GOVERNANCE.UNEVALUABLE';

/** One step about to be dispatched. Time comes in on `now`; the policy lib never reads a clock. */
export interface GovernanceRequest {
  readonly runId: string;
  readonly definitionId: string;
  readonly definitionVersion: number;
  readonly stepId: string;
  readonly worker: string;
  readonly action?: string;
  /** The step's resolved input (JSON). */
  readonly input: unknown;
  /** The run's input (JSON). */
  readonly runInput: unknown;
  /** Who started the run. */
  readonly actor?: string;
  /** Epoch milliseconds, supplied by the caller. */
  readonly now: number;
}

export interface GovernanceDecision {
  readonly outcome: GovernanceOutcome;
  /** The policy that decided, or null when none did (default deny, no policies loaded). */
  readonly policyId: string | null;
  /** Every policy Cedar reported as determining, in load order. */
  readonly policyIds: readonly string[];
  readonly reason: string;
  /**
   * Set only on a deny that no policy took: `GOVERNANCE.UNEVALUABLE` when Cedar could not evaluate the request
   * (a lone surrogate, a value nested too deep, a request Cedar refused). Fail closed, and the same request
   * would fail again, so it is decided once rather than retried.
   */
  readonly code?: GovernanceDecisionCode;
  /**
   * Policies Cedar could not evaluate for this request (`<policy id>: <message>`). Cedar skips
   * them, so a forbid that errors does not apply; these are surfaced so the skip is never silent.
   */
  readonly errors?: readonly string[];
  /**
   * Only on an allow that holds for every run of the same definition's step, whatever the inputs, the principal
   * and the time (ADR 40): the permit that always applies. Callers may apply it to the step's later requests for a
   * short while without asking again.
   */
  readonly standing?: StandingRuling;
}

/** An allow that does not depend on the request beyond its step: the permit that always applies, and its reason. */
export interface StandingRuling {
  readonly policyId: string | null;
  readonly reason: string;
}

/** Policy text and the name it came from (a file name), used in error messages and default ids. */
export interface PolicySource {
  readonly name: string;
  readonly text: string;
}

export interface PolicyEngine {
  evaluate(request: GovernanceRequest): GovernanceDecision;
  /** Every loaded policy id, in load order. */
  readonly policyIds: readonly string[];
}
