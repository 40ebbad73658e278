import { createPolicyEngine } from '@orchestron/policy';
import type { PolicySource } from '@orchestron/policy';
import type { GovernanceCheck } from './ports.ts';

/** The in-process governance check: Cedar policies, evaluated where the orchestrator runs. */
export function createPolicyGovernance(
  sources: readonly PolicySource[],
): GovernanceCheck & { readonly policyIds: readonly string[] } {
  const engine = createPolicyEngine(sources);
  const check = async (request: Parameters<GovernanceCheck>[0]) => {
    const decision = engine.evaluate(request);
    return {
      outcome: decision.outcome,
      policyId: decision.policyId,
      reason: decision.reason,
      ...(decision.code === undefined ? {} : { code: decision.code }),
    };
  };
  return Object.assign(check, { policyIds: engine.policyIds });
}
