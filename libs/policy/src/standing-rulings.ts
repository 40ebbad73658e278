import { isAuthorizedPartial, policyToJson } from '@cedar-policy/cedar-wasm/nodejs';
import type { CedarValueJson, Context, PolicySet } from '@cedar-policy/cedar-wasm/nodejs';
import { RUN_TYPE, toCedarRequest } from './cedar-request.ts';
import type { CedarRequest } from './cedar-request.ts';
import type { GovernanceRequest, StandingRuling } from './governance.types.ts';
import type { LoadedPolicy } from './policy-set.ts';

/**
 * The context of a request, attribute by attribute, as a standing ruling sees it (ADR 40). The three that name the
 * step are the same for every run of the definition's step, so they stay known. The rest differ between runs, so
 * they are unknown; `input` and `runInput` are absent altogether when null, so they are tried both present and
 * absent. `standing-rulings.spec.ts` holds this list to what `toCedarRequest` builds.
 */
export const STEP_ATTRIBUTES = ['stepId', 'worker', 'definitionId'] as const;
export const RUN_ATTRIBUTES = ['hourUtc', 'weekdayUtc', 'minuteOfDayUtc'] as const;
export const OPTIONAL_RUN_ATTRIBUTES = ['input', 'runInput'] as const;
/** Every subset of the optional attributes: each combination a run's context may have. */
const PRESENCES: readonly (readonly string[])[] = OPTIONAL_RUN_ATTRIBUTES.reduce<(readonly string[])[]>(
  (subsets, name) => subsets.flatMap((subset) => [subset, [...subset, name]]),
  [[]],
);
/** Distinct steps remembered per engine (a new engine per policy reload starts empty); past this, it starts over. */
const MAX_REMEMBERED = 10_000;

/**
 * Whether the allow of a request holds for every run of the same definition's step, whatever its input, its run's
 * input (or their absence), who started it and the time (ADR 40): Cedar's partial evaluation with all of those
 * unknown must still decide `allow`, with no policy erroring, for every combination of the optional attributes
 * present or absent. Then the ruling names the first permit (in load order) that applies in all of them. Null when
 * any policy could go the other way for some run, and always when a policy names a run entity (`Orchestron::Run::"…"`
 * has attributes in a real evaluation and none here).
 *
 * The answer depends on the step alone, so it is worked out once per step and policy set.
 */
export function standingRulings(
  policies: readonly LoadedPolicy[],
): (request: GovernanceRequest) => StandingRuling | null {
  if (policies.some(namesARun)) return () => null;
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
  let full: CedarRequest;
  try {
    full = toCedarRequest(request);
  } catch {
    return null;
  }
  let always: Set<string> | undefined;
  for (const present of PRESENCES) {
    const determining = allowsForEveryRun(set, full, present);
    if (determining === null) return null;
    always = always === undefined ? determining : new Set([...always].filter((id) => determining.has(id)));
  }
  const permit = policies.find((policy) => policy.effect === 'permit' && always?.has(policy.id) === true);
  if (permit === undefined) return null;
  return { policyId: permit.id, reason: permit.reason ?? `permitted by ${permit.id}` };
}

/** The permits that must determine the decision, when Cedar allows whatever the unknowns are; null otherwise. */
function allowsForEveryRun(set: PolicySet, full: CedarRequest, present: readonly string[]): Set<string> | null {
  let answer: ReturnType<typeof isAuthorizedPartial>;
  try {
    answer = isAuthorizedPartial({
      principal: null,
      action: full.action,
      resource: full.resource,
      context: contextOf(full.context, present),
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
  return new Set(mustBeDetermining);
}

function contextOf(full: Context, present: readonly string[]): Context {
  const known = full as Record<string, CedarValueJson>;
  const context: Record<string, CedarValueJson> = {};
  const unknown = (name: string): CedarValueJson => ({ __extn: { fn: 'unknown', arg: `context.${name}` } });
  for (const name of STEP_ATTRIBUTES) if (known[name] !== undefined) context[name] = known[name];
  for (const name of [...RUN_ATTRIBUTES, ...present]) context[name] = unknown(name);
  return context;
}

function namesARun(policy: LoadedPolicy): boolean {
  const answer = policyToJson(policy.text);
  // A policy Cedar cannot read back is not one to reason about: no standing rulings at all.
  if (answer.type !== 'success') return true;
  return JSON.stringify(answer.json).includes(JSON.stringify(RUN_TYPE));
}
