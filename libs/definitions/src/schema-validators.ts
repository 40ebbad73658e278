import { Ajv } from 'ajv';
import type { Options, ValidateFunction } from 'ajv';
import { SCHEMA_KEYS } from './generated/validators.ts';
import * as generated from './generated/validators.ts';

/**
 * The one set of ajv options for the schemas the services check at start-up: every error at once (the messages
 * name each bad field), and verbose, so an error keeps the offending value for the definitions' messages.
 */
export const SCHEMA_OPTIONS: Readonly<Options> = { allErrors: true, strict: false, verbose: true };

/** What a validator in generated/validators.ts is found by: the schema's text, with the options it was built with. */
export function schemaKey(schema: object): string {
  return JSON.stringify({ schema, options: SCHEMA_OPTIONS });
}

const exported = generated as unknown as Readonly<Record<string, ValidateFunction | undefined>>;
const precompiled = new Map(
  Object.entries(SCHEMA_KEYS as Readonly<Record<string, string>>).map(([name, key]) => [key, exported[name]]),
);
let runtime: Ajv | undefined;

/** The validator `npm run validators:write` compiled for this schema, if the file holds it as it stands now. */
export function precompiledValidator(schema: object): ValidateFunction | undefined {
  return precompiled.get(schemaKey(schema));
}

/**
 * The validator of a schema, compiled ahead of time by `npm run validators:write` (ADR 47), so that a process
 * does not spend its start compiling schemas: the definitions' and the wire messages' took about 0.1 s of CPU
 * in every service. A schema with no validator there (one a test makes up, or one changed since the file was
 * written) is compiled here instead, with the same options: slower to start, the same answers.
 * test/docs/generated-validators.spec.ts keeps the file current for every schema the code ships.
 */
export function schemaValidator(schema: object): ValidateFunction {
  const ready = precompiledValidator(schema);
  if (ready !== undefined) return ready;
  runtime ??= new Ajv(SCHEMA_OPTIONS);
  return runtime.compile(schema);
}
