export { startWorkerService } from './service.ts';
export type { WorkerService, WorkerServiceOptions } from './service.ts';
export { ConfigError, readConfig } from './config.ts';
export type { WorkersConfig } from './config.ts';
