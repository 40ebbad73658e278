/** DI tokens of the governance module (bound by value in `GovernanceModule.with`). */
export const GOVERNANCE_BUS = Symbol('GOVERNANCE_BUS');
export const GOVERNANCE_POLICIES = Symbol('GOVERNANCE_POLICIES');
export const GOVERNANCE_SETTINGS = Symbol('GOVERNANCE_SETTINGS');
export const GOVERNANCE_LOGGER = Symbol('GOVERNANCE_LOGGER');
export const GOVERNANCE_METRICS = Symbol('GOVERNANCE_METRICS');
