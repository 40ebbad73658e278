/** Standing governance rulings as the decider sees them (ADRs 41, 43): read-only knowledge its caller may give it. */
import { inputDigest } from './digest.ts';
import type { WorkflowEvent } from './messages.ts';
import type { RunData } from './state.ts';

/** An allow that holds for every run of a step, as its holder words it. */
export interface StandingVerdict {
  readonly policyId: string | null;
  readonly reason: string;
  /** The governance instance whose ruling it is. */
  readonly decidedBy: string;
}

/**
 * The standing ruling its holder has on the step about to be checked, with the input the request would carry (the
 * holder decides whether the ruling covers it); null when it has none. It must not change what it answers within
 * one decision, as the decider's other inputs do not.
 */
export type StandingLookup = (s: RunData, stepId: string, input: unknown) => StandingVerdict | null;

/**
 * The whole governance check of a step when a standing ruling covers it (ADR 43): the attempt `dispatched` builds,
 * with the ruling on its `StepDispatched`, so the allow and the dispatch are one event. When the attempt does not go
 * out as one `StepDispatched` (its locks do not render, and it fails instead), the ruling is recorded as a
 * `GovernanceDecided` of its own, as under ADR 41, and the failure follows in the next reaction. Null without one.
 */
export function standingDispatch(
  s: RunData,
  stepId: string,
  attempt: number,
  input: unknown,
  now: number,
  standing: StandingLookup | undefined,
  dispatched: () => WorkflowEvent[],
): WorkflowEvent[] | null {
  const verdict = standing?.(s, stepId, input) ?? null;
  if (verdict === null) return null;
  const events = dispatched();
  const [only] = events;
  if (events.length !== 1 || only?.type !== 'StepDispatched' || only.data.stepId !== stepId)
    return [standingDecided(verdict, stepId, attempt, input, now)];
  const { at, ...sent } = only.data;
  const { policyId, reason, decidedBy } = verdict;
  return [{ ...only, data: { ...sent, ruling: { policyId, reason, decidedBy, inputDigest: inputDigest(input) }, at } }];
}

/** A standing ruling as a `GovernanceDecided` of its own (ADR 41): the allow, the attempt and the input's digest. */
function standingDecided(
  verdict: StandingVerdict,
  stepId: string,
  attempt: number,
  input: unknown,
  now: number,
): Extract<WorkflowEvent, { type: 'GovernanceDecided' }> {
  return {
    type: 'GovernanceDecided',
    data: {
      stepId,
      outcome: 'allow',
      policyId: verdict.policyId,
      reason: verdict.reason,
      standing: { decidedBy: verdict.decidedBy, attempt, inputDigest: inputDigest(input) },
      at: now,
    },
  };
}
