export { DEFAULT_ORCHESTRATOR_GROUP, startOrchestrator } from './start-orchestrator.ts';
export type { OrchestratorHandle, OrchestratorOptions } from './start-orchestrator.ts';
