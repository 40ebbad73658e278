/** Standing governance rulings as the decider sees them (ADR 41): read-only knowledge its caller may give it. */
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
 * The whole governance check of a step when a standing ruling covers it: one `GovernanceDecided` recording the
 * allow, the attempt and the digest of the input it allowed, in place of a request and its answer. Null without one.
 */
export function standingDecision(
  s: RunData,
  stepId: string,
  attempt: number,
  input: unknown,
  now: number,
  standing: StandingLookup | undefined,
): Extract<WorkflowEvent, { type: 'GovernanceDecided' }> | null {
  const verdict = standing?.(s, stepId, input) ?? null;
  if (verdict === null) return null;
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
