import { preparsePolicySet, statefulIsAuthorized } from '@cedar-policy/cedar-wasm/nodejs';
import type { AuthorizationAnswer, DetailedError, PolicySet } from '@cedar-policy/cedar-wasm/nodejs';
import { toCedarRequest } from './cedar-request.ts';
import type { CedarRequest } from './cedar-request.ts';
import type { GovernanceDecision, GovernanceRequest, PolicyEngine, PolicySource } from './governance.types.ts';
import { PolicyError } from './policy.error.ts';
import { UNEVALUABLE_CODE, UnevaluableRequestError } from './unevaluable.error.ts';
import { loadPolicies } from './policy-set.ts';
import { standingRulings } from './standing-rulings.ts';
import type { LoadedPolicy } from './policy-set.ts';

export const NO_POLICIES_REASON = 'no policies loaded';
export const DEFAULT_DENY_REASON = 'no policy permits this step (Cedar default deny)';
export const UNEVALUABLE_REASON_PREFIX = 'Cedar could not evaluate the request: ';

/**
 * Cedar caches preparsed policy sets in the wasm instance under a name, for the life of the
 * process. Each engine takes fresh names so that reloading policies never changes what an
 * engine still in use evaluates; the cost is a few kilobytes per reload.
 */
let preparsedSetCount = 0;

/**
 * Parses and checks every source once; `evaluate` then runs against the cached policy sets.
 * Throws PolicyError listing every problem (with source name and line) when any text is invalid.
 */
export function createPolicyEngine(sources: readonly PolicySource[]): PolicyEngine {
  if (sources.length === 0) return allowAllEngine;
  const { policies, problems } = loadPolicies(sources);
  if (problems.length > 0) throw new PolicyError(problems);
  const all = preparse(policies);
  const approvalForbids = policies.filter((policy) => policy.requiresApproval);
  // Only approval forbids ever need the second pass, so their absence means no second set.
  const withoutApproval =
    approvalForbids.length > 0 ? preparse(policies.filter((policy) => !policy.requiresApproval)) : all;
  const policyIds = policies.map((policy) => policy.id);
  const standing = standingRulings(policies);
  const inLoadOrder = (ids: readonly string[]): LoadedPolicy[] => {
    const wanted = new Set(ids);
    return policies.filter((policy) => wanted.has(policy.id));
  };
  return {
    policyIds,
    evaluate(request: GovernanceRequest): GovernanceDecision {
      let cedarRequest: CedarRequest;
      let answer: AuthorizationAnswer;
      try {
        cedarRequest = toCedarRequest(request);
        answer = authorize(all, cedarRequest);
      } catch (error) {
        // A RangeError (a `now` that is no time) is the caller's bug, not the request's: it stays thrown.
        if (error instanceof RangeError) throw error;
        return unevaluable([describeThrown(error)]);
      }
      if (answer.type === 'failure') return unevaluable(answer.errors.map(describe));
      const { decision, diagnostics } = answer.response;
      const determining = inLoadOrder(diagnostics.reason);
      const errors = diagnostics.errors.map((e) => `${e.policyId}: ${describe(e.error)}`);
      if (decision === 'allow') {
        // Fail closed: a forbid that could not be evaluated might have applied, so it denies.
        const broken = inLoadOrder(diagnostics.errors.map((e) => e.policyId)).find(
          (policy) => policy.effect === 'forbid',
        );
        if (broken !== undefined)
          return withErrors(
            {
              outcome: 'deny',
              policyId: broken.id,
              policyIds: [broken.id],
              reason: `forbid ${broken.id} could not be evaluated, so the step is denied (fail closed)`,
            },
            errors,
            true,
          );
        if (errors.length > 0) return withErrors(permitted(determining), errors, false);
        const ruling = standing(request);
        return ruling === null ? permitted(determining) : { ...permitted(determining), standing: ruling };
      }
      const hardForbid = determining.find((policy) => !policy.requiresApproval);
      if (hardForbid !== undefined) return withErrors(decided('deny', hardForbid, determining), errors, true);
      const approval = determining[0];
      if (approval === undefined) return withErrors(defaultDeny([]), errors, true);
      // Every determining policy asks for approval: approval only makes sense if, once granted, something permits the step.
      const second = authorizeOrFail(withoutApproval, cedarRequest);
      if (second.type === 'success' && second.response.decision === 'allow') {
        return withErrors(decided('require_approval', approval, determining), errors, false);
      }
      return withErrors(defaultDeny(determining), errors, true);
    },
  };
}

const allowAllEngine: PolicyEngine = {
  policyIds: [],
  evaluate: () => ({
    outcome: 'allow',
    policyId: null,
    policyIds: [],
    reason: NO_POLICIES_REASON,
    standing: { policyId: null, reason: NO_POLICIES_REASON },
  }),
};

function preparse(policies: readonly LoadedPolicy[]): string {
  preparsedSetCount += 1;
  const name = `orchestron-policy-${preparsedSetCount}`;
  const set: PolicySet = { staticPolicies: Object.fromEntries(policies.map((policy) => [policy.id, policy.text])) };
  const answer = preparsePolicySet(name, set);
  if (answer.type === 'failure') {
    throw new PolicyError(
      answer.errors.map((error) => ({ source: '(combined policy set)', message: describe(error) })),
    );
  }
  return name;
}

function authorize(preparsedPolicySetId: string, request: CedarRequest): AuthorizationAnswer {
  return statefulIsAuthorized({ ...request, preparsedPolicySetId });
}

/** The second pass reads a request the first already parsed; should it throw anyway, that is a failed answer (so no approval). */
function authorizeOrFail(preparsedPolicySetId: string, request: CedarRequest): AuthorizationAnswer {
  try {
    return authorize(preparsedPolicySetId, request);
  } catch (error) {
    return {
      type: 'failure',
      errors: [{ message: describeThrown(error), help: null, code: null, url: null, severity: null }],
      warnings: [],
    };
  }
}

function permitted(determining: readonly LoadedPolicy[]): GovernanceDecision {
  const permit = determining[0];
  // Cedar allows only when some permit is satisfied, so this is a defensive default.
  if (permit === undefined) return { outcome: 'allow', policyId: null, policyIds: [], reason: 'permitted' };
  return {
    outcome: 'allow',
    policyId: permit.id,
    policyIds: determining.map((p) => p.id),
    reason: permit.reason ?? `permitted by ${permit.id}`,
  };
}

function decided(
  outcome: 'deny' | 'require_approval',
  policy: LoadedPolicy,
  determining: readonly LoadedPolicy[],
): GovernanceDecision {
  const fallback = outcome === 'deny' ? `forbidden by ${policy.id}` : `approval required by ${policy.id}`;
  return { outcome, policyId: policy.id, policyIds: determining.map((p) => p.id), reason: policy.reason ?? fallback };
}

function defaultDeny(determining: readonly LoadedPolicy[]): GovernanceDecision {
  return { outcome: 'deny', policyId: null, policyIds: determining.map((p) => p.id), reason: DEFAULT_DENY_REASON };
}

/**
 * A request Cedar refuses to evaluate at all cannot be allowed: fail closed, say why, and mark it so that callers
 * record it once (asking again with the same request fails the same way) and an operator is told.
 */
function unevaluable(messages: readonly string[]): GovernanceDecision {
  return {
    outcome: 'deny',
    code: UNEVALUABLE_CODE,
    policyId: null,
    policyIds: [],
    reason: `${UNEVALUABLE_REASON_PREFIX}${messages.join('; ')}`,
    errors: messages,
  };
}

function describeThrown(error: unknown): string {
  if (error instanceof UnevaluableRequestError) return error.message;
  // cedar-wasm throws plain Errors from its JSON parser ("recursion limit exceeded at line 1 column 843").
  return `the request was refused (${error instanceof Error ? error.message : String(error)})`;
}

/** Cedar skips policies that error; the skip is reported on the decision, and named in the reason of a deny. */
function withErrors(decision: GovernanceDecision, errors: readonly string[], inReason: boolean): GovernanceDecision {
  if (errors.length === 0) return decision;
  const reason = inReason
    ? `${decision.reason}; policies that could not be evaluated: ${errors.join('; ')}`
    : decision.reason;
  return { ...decision, reason, errors };
}

function describe(error: DetailedError): string {
  return error.help ? `${error.message} (${error.help})` : error.message;
}
