export {
  createExampleWorkers,
  createOnboardingWorkers,
  EXAMPLE_WORKER_NAMES,
  isExampleWorkerName,
  ONBOARDING_WORKER_NAMES,
} from './example-workers.ts';
export type { ExampleWorkerName, ExampleWorkerOptions } from './example-workers.ts';
export type { Simulation } from './simulate.ts';
export { llmHandlers, modelFromEnv, openAiCompatibleModel, standInModel, STAND_IN_PRICES, tokensOf } from './llm.ts';
export type { Completion, CompletionRequest, LanguageModel, OpenAiCompatibleOptions, Prices } from './llm.ts';
export { SqliteLedger } from './sqlite-ledger.ts';
export type { ExecutionRecord } from './sqlite-ledger.ts';
export { PostgresLedger } from './postgres-ledger.ts';
export type { PostgresLedgerOptions } from './postgres-ledger.ts';
