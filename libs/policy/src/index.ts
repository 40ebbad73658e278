export type { GovernanceDecision, GovernanceOutcome, GovernanceRequest, PolicyEngine, PolicySource } from './governance.types.ts';
export type { PolicyProblem } from './policy.error.ts';
export { PolicyError } from './policy.error.ts';
export { createPolicyEngine } from './policy-engine.ts';
