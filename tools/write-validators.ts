// Writes libs/definitions/src/generated/validators.ts from the schemas (ADR 47): run it after changing a schema.
// It loads the libraries, which load the file: if the file is gone, write `export const SCHEMA_KEYS = {};` to it first.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { GENERATED_VALIDATORS, validatorsSource } from './validators-source.ts';

const source = validatorsSource();
writeFileSync(GENERATED_VALIDATORS, source);
process.stdout.write(`wrote ${fileURLToPath(GENERATED_VALIDATORS)} (${source.length} bytes)\n`);
