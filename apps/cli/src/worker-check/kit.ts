import { Probe } from './probe.ts';
import { SCENARIOS } from './scenarios.ts';
import type { ProbeOptions } from './probe.ts';
import type { Scenario } from './scenarios.ts';

export interface ScenarioResult {
  readonly scenario: string;
  readonly ok: boolean;
  readonly violations: readonly string[];
  readonly ms: number;
}

export interface WorkerCheckOptions extends ProbeOptions {
  /** Called with each result as its scenario ends, so a person watching sees progress. */
  readonly onResult?: (result: ScenarioResult) => void;
  /** Default: all of SCENARIOS, in order. */
  readonly scenarios?: readonly Scenario[];
}

/**
 * Runs the scenarios one after another against a live worker (one at a time, so a worker that takes one command
 * at a time is judged fairly, and no scenario's reports are late because of another's). Never throws for what the
 * worker does: every misbehaviour is a violation in a result. A broker that is away throws.
 */
export async function runWorkerCheck(options: WorkerCheckOptions): Promise<ScenarioResult[]> {
  const probe = await Probe.open(options);
  const results: ScenarioResult[] = [];
  try {
    for (const scenario of options.scenarios ?? SCENARIOS) {
      const began = Date.now();
      const violations = await scenario.run(probe);
      const result = { scenario: scenario.name, ok: violations.length === 0, violations, ms: Date.now() - began };
      results.push(result);
      options.onResult?.(result);
    }
  } finally {
    await probe.close();
  }
  return results;
}

/** One line per scenario: `pass  execute` or `FAIL  duplicate: executed twice (…)`. */
export function resultLine(result: ScenarioResult): string {
  return result.ok ? `pass  ${result.scenario}` : `FAIL  ${result.scenario}: ${result.violations.join('; ')}`;
}
