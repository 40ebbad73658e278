import type { CompiledDefinition } from '@orchestron/definitions';
import type { RecordedEvent } from '@orchestron/event-store';
import type { RunData } from '@orchestron/workflow-core';
import type { RunCommand, StartRunRequest } from './engine.ts';
import type { RunFilter, RunSummary } from './run-index.ts';

/** The definitions an edge may register and read. */
export interface DefinitionCatalog {
  register(raw: unknown, actor: string): Promise<{ definition: CompiledDefinition; created: boolean }>;
  get(id: string, version?: number): CompiledDefinition;
  list(): { id: string; versions: number[]; latest: CompiledDefinition }[];
}

/**
 * What the HTTP edge needs of Orchestron. The embedded tier's Engine is one (it runs everything in-process);
 * the production tier's API talks to the orchestrators over the bus and reads the event store (RemoteRuns).
 */
export interface RunService {
  readonly definitions: DefinitionCatalog;
  startRun(request: StartRunRequest): Promise<{ run: RunData; created: boolean }>;
  /** Applies an operator command; throws DomainError (stable code) when it does not apply. */
  execute(runId: string, command: RunCommand, actor: string): Promise<RunData>;
  getRun(runId: string): Promise<RunData | null>;
  history(runId: string): Promise<RecordedEvent[]>;
  listRuns(filter: RunFilter): RunSummary[];
}
