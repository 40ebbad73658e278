// Types for .dependency-cruiser.mjs, which test/lint/no-cycle.spec.ts imports to run the check through the API.
import type { ICruiseOptions, IForbiddenRuleType } from 'dependency-cruiser';

declare const config: { forbidden: IForbiddenRuleType[]; options: ICruiseOptions };
export default config;
export declare const KNOWN_RUNTIME_CYCLE: string[];
export declare const CRUISED: string[];
