// The example definitions the hostile suites start from, parsed once. No test framework here: the fault suite's CLI
// imports this too.
import { readFileSync } from 'node:fs';
import { parseDefinitionText } from '@orchestron/definitions';

export type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export const example = (file: string): string =>
  readFileSync(new URL(`../../examples/${file}`, import.meta.url), 'utf8');
export const vendorPayment = parseDefinitionText(example('vendor-payment.yaml')) as Json;
export const onboarding = parseDefinitionText(example('employee-onboarding.yaml')) as Json;
