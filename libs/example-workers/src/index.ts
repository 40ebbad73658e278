export { createOnboardingWorkers } from './onboarding-workers.ts';
export type { ExampleWorkerOptions, Simulation } from './onboarding-workers.ts';
export { SqliteLedger } from './sqlite-ledger.ts';
