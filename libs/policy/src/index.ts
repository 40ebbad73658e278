export type {
  GovernanceDecision,
  GovernanceDecisionCode,
  GovernanceOutcome,
  GovernanceRequest,
  PolicyEngine,
  PolicySource,
  StandingRuling,
} from './governance.types.ts';
export type { PolicyProblem } from './policy.error.ts';
export { PolicyError } from './policy.error.ts';
export { createPolicyEngine } from './policy-engine.ts';
export { isEvaluable } from './cedar-request.ts';
export { MAX_CEDAR_DEPTH } from './cedar-value.ts';
export { UNEVALUABLE_CODE, UnevaluableRequestError } from './unevaluable.error.ts';
