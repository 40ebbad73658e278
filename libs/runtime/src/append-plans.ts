import { fold } from '@orchestron/workflow-core';
import type { RunData } from '@orchestron/workflow-core';
import type { AppendPlan, PlanAppend } from './run-commands.ts';

/**
 * The plans made before an append (resource locks, then flow control), one after the other: each sees the run as the
 * extra events of those before it leave it, and only the effects they kept. The append carries every extra event;
 * commit and rollback reach every plan.
 */
export function chainPlans(...stages: readonly PlanAppend[]): PlanAppend {
  return (runId, command, after, effects) => {
    const plans: AppendPlan[] = [];
    let state = after;
    let kept = effects;
    for (const stage of stages) {
      const plan = stage(runId, command, state, kept);
      plans.push(plan);
      if (plan.extra.length > 0)
        state = fold(
          plan.extra.map((d) => d.event),
          state,
        ) as RunData;
      kept = plan.effects;
    }
    return {
      extra: plans.flatMap((p) => p.extra),
      effects: kept,
      commit: () => {
        for (const p of plans) p.commit();
      },
      rollback: () => {
        for (const p of plans) p.rollback();
      },
    };
  };
}
