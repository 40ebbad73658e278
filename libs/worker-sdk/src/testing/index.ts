export { describeIdempotencyLedgerConformance } from './ledger.conformance.ts';
export type { LedgerUnderTest } from './ledger.conformance.ts';
