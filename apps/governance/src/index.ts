import 'reflect-metadata';

export { DEFAULT_GOVERNANCE_GROUP, startGovernanceService } from './start-governance.ts';
export type { GovernanceKafkaOptions, GovernanceServiceHandle, GovernanceServiceOptions } from './start-governance.ts';
export { GovernanceService } from './governance.service.ts';
export type { GovernanceSettings, PolicyProvider } from './governance.service.ts';
export { GovernanceController } from './governance.controller.ts';
export { GovernanceModule } from './governance.module.ts';
export type { GovernanceModuleDependencies } from './governance.module.ts';
export { PolicyStore } from './policy-store.ts';
export type { PolicyReload, PolicyStoreOptions } from './policy-store.ts';
export { governanceConfig } from './governance.config.ts';
