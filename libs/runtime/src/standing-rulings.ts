import type { GovernanceDecisionMessage } from '@orchestron/bus';
import { isEvaluable } from '@orchestron/policy';
import type { RunData } from '@orchestron/workflow-core';
import { governanceRequestOf } from './governance-request.ts';
import type { GovernanceVerdict } from './ports.ts';

/** Requests asked and not yet answered, and steps with a standing ruling, kept per process; past this, the oldest go. */
const MAX_ENTRIES = 10_000;

interface Standing {
  readonly policyId: string | null;
  readonly reason: string;
  readonly decidedBy: string;
  readonly decidedAt: number;
  readonly until: number;
}

/** A verdict from a standing ruling, and the governance instance that gave it (the actor of what is recorded). */
export interface StandingVerdict extends GovernanceVerdict {
  readonly decidedBy: string;
}

/**
 * The allows governance said hold for every run of a step (ADR 40), applied to that step's later requests until
 * they lapse, so those steps skip the round trip to the governance service. Only a ruling on a request this process
 * asked is kept, under the step it asked about (tenant, definition and version, step, worker, action). It holds for
 * `forMs` from when this process asked, and a decision made longer than that before the asking (a decision of an
 * earlier ask, delivered again after a failover) plants nothing: a policy reload reaches the step within `forMs`.
 */
export class StandingRulings {
  /** requestId → the step it asked about, and when. */
  private readonly asked = new Map<string, { readonly key: string; readonly at: number }>();
  private readonly rulings = new Map<string, Standing>();

  /** The step a request is about, as the key its standing ruling is kept under. */
  static keyOf(state: RunData, stepId: string): string {
    const def = state.definition.steps[stepId];
    const { id, version } = state.definition;
    return JSON.stringify([state.tenant, id, version, stepId, def?.worker ?? '', def?.action ?? null]);
  }

  asking(requestId: string, key: string, now: number): void {
    bounded(this.asked).set(requestId, { key, at: now });
  }

  /** A decision arrived: when it is a standing ruling on a request of ours, it is applied until it lapses. */
  ruled(decision: GovernanceDecisionMessage): void {
    const asked = this.asked.get(decision.requestId);
    if (asked === undefined) return;
    this.asked.delete(decision.requestId);
    const { standing } = decision;
    if (decision.outcome !== 'allow' || standing === undefined) return;
    if (decision.decidedAt < asked.at - standing.forMs) return;
    this.rulings.delete(asked.key);
    bounded(this.rulings).set(asked.key, {
      policyId: standing.policyId,
      reason: standing.reason,
      decidedBy: decision.decidedBy,
      decidedAt: decision.decidedAt,
      until: asked.at + standing.forMs,
    });
  }

  /**
   * The verdict to record for the step of `state` without asking, while a standing ruling holds; null otherwise, and
   * for a request Cedar could not take (governance denies those as GOVERNANCE.UNEVALUABLE).
   */
  verdictFor(state: RunData, stepId: string, input: unknown, now: number): StandingVerdict | null {
    const key = StandingRulings.keyOf(state, stepId);
    const ruling = this.rulings.get(key);
    if (ruling === undefined) return null;
    if (ruling.until <= now) {
      this.rulings.delete(key);
      return null;
    }
    if (!isEvaluable(governanceRequestOf(state, stepId, input, now))) return null;
    const since = new Date(ruling.decidedAt).toISOString();
    return {
      outcome: 'allow',
      policyId: ruling.policyId,
      reason: `${ruling.reason} (standing ruling by ${ruling.decidedBy} at ${since}: it holds for any input of this step)`,
      decidedBy: ruling.decidedBy,
    };
  }

  /** Standing rulings held now (tests and metrics). */
  get size(): number {
    return this.rulings.size;
  }
}

function bounded<V>(map: Map<string, V>): Map<string, V> {
  if (map.size >= MAX_ENTRIES) {
    const oldest = map.keys().next();
    if (oldest.done !== true) map.delete(oldest.value);
  }
  return map;
}
