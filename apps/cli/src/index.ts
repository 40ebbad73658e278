export { runCli, buildProgram } from './cli.ts';
export type { CliDeps } from './cli.context.ts';
export type { Io } from './output.ts';
export { ExitCode, exitCodeFor } from './exit-codes.ts';
export type { Outcome } from './exit-codes.ts';
export { renderProgress, summaryLine } from './progress.renderer.ts';
export { waitState } from './run-state.ts';
export { createApiClient } from './api.client.ts';
export type { ApiClient } from './api.client.ts';
export {
  ApiError,
  KafkaUnreachableError,
  ServerUnreachableError,
  UsageError,
  LocalDefinitionError,
  WaitTimeoutError,
} from './cli.errors.ts';
export type { RunView, StepView, RunSummary, EventView } from './api.types.ts';
