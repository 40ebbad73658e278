import { Topics } from '@orchestron/bus';
import type { CompiledDefinition } from '@orchestron/definitions';

/**
 * The command topic of every worker a definition names, its steps' and its compensations'. Orchestron creates them
 * when the definition is registered and, for the definitions it knows, at start-up: a worker that subscribes
 * before the first dispatch finds its topic there, and a command sent before it joined waits for it.
 */
export function commandTopicsOf(definition: CompiledDefinition): string[] {
  const workers = new Set<string>();
  for (const step of Object.values(definition.steps)) {
    if (step.worker !== null) workers.add(step.worker);
    if (step.compensate !== null) workers.add(step.compensate.worker);
  }
  return [...workers].sort().map((worker) => Topics.commands(worker));
}
