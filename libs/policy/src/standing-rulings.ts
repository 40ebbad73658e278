import { isAuthorizedPartial } from '@cedar-policy/cedar-wasm/nodejs';
import type { CedarValueJson, Context, PolicySet } from '@cedar-policy/cedar-wasm/nodejs';
import { toCedarRequest } from './cedar-request.ts';
import type { GovernanceRequest, StandingRuling } from './governance.types.ts';
import type { LoadedPolicy } from './policy-set.ts';

/**
 * The context attributes a standing ruling may rely on: they name the step, and every run of the definition's step
 * has the same. Everything else in the context (the inputs, the time of day, whatever is added later) is unknown to
 * the partial evaluation, and so is the principal (the run, its version and who started it).
 */
const STEP_ATTRIBUTES: ReadonlySet<string> = new Set(['stepId', 'worker', 'definitionId']);
/** Distinct steps remembered per engine (a new engine per policy reload starts empty); past this, it starts over. */
const MAX_REMEMBERED = 10_000;

/**
 * Whether the allow of a request holds for every run of the same definition's step, whatever its input, its run's
 * input, who started it and the time (ADR 40): Cedar's partial evaluation with all of those unknown must still
 * decide `allow`, with no policy erroring. Then the ruling names the first permit (in load order) that applies
 * whatever the unknowns are. Null when any policy could go the other way for some run: a forbid or a permit that
 * reads the input, the time, the principal or a group it might be in.
 *
 * The answer depends on the step alone, so it is worked out once per step and policy set.
 */
export function standingRulings(
  policies: readonly LoadedPolicy[],
): (request: GovernanceRequest) => StandingRuling | null {
  const set: PolicySet = { staticPolicies: Object.fromEntries(policies.map((policy) => [policy.id, policy.text])) };
  const remembered = new Map<string, StandingRuling | null>();
  return (request) => {
    const key = JSON.stringify([request.definitionId, request.stepId, request.worker, request.action ?? null]);
    const known = remembered.get(key);
    if (known !== undefined) return known;
    if (remembered.size >= MAX_REMEMBERED) remembered.clear();
    const ruling = evaluateStanding(set, policies, request);
    remembered.set(key, ruling);
    return ruling;
  };
}

function evaluateStanding(
  set: PolicySet,
  policies: readonly LoadedPolicy[],
  request: GovernanceRequest,
): StandingRuling | null {
  let answer: ReturnType<typeof isAuthorizedPartial>;
  try {
    const full = toCedarRequest(request);
    answer = isAuthorizedPartial({
      principal: null,
      action: full.action,
      resource: full.resource,
      context: onlyStepAttributes(full.context),
      policies: set,
      // The resource's attributes come from the definition's step; the principal is unknown, so it has none.
      entities: full.entities.filter((entity) => JSON.stringify(entity.uid) !== JSON.stringify(full.principal)),
    });
  } catch {
    return null;
  }
  if (answer.type !== 'residuals') return null;
  const { decision, errored, mustBeDetermining } = answer.response;
  if (decision !== 'allow' || errored.length > 0) return null;
  const always = new Set(mustBeDetermining);
  const permit = policies.find((policy) => policy.effect === 'permit' && always.has(policy.id));
  if (permit === undefined) return null;
  return { policyId: permit.id, reason: permit.reason ?? `permitted by ${permit.id}` };
}

function onlyStepAttributes(context: Context): Context {
  const partial: Record<string, CedarValueJson> = {};
  for (const [name, value] of Object.entries(context as Record<string, CedarValueJson>))
    partial[name] = STEP_ATTRIBUTES.has(name) ? value : { __extn: { fn: 'unknown', arg: `context.${name}` } };
  return partial;
}
