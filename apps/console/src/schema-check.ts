import { Ajv } from 'ajv';
import type { ValidateFunction } from 'ajv';

/** The JSON Schema library and options the server checks inputs with (libs/definitions), so both give the same issues. */
const ajv = new Ajv({ allErrors: true, strict: false });
const compiled = new WeakMap<object, ValidateFunction>();

/** `/input/email: missing required field "email"`, one per problem, as the server words them; empty when it fits. */
export function inputProblems(schema: object, value: unknown): string[] {
  let validate = compiled.get(schema);
  if (validate === undefined) {
    try {
      validate = ajv.compile(schema);
    } catch (error) {
      return [`/input: the step's inputSchema does not compile: ${(error as Error).message}`];
    }
    compiled.set(schema, validate);
  }
  if (validate(value)) return [];
  return (validate.errors ?? []).map((e) => {
    const missing = e.keyword === 'required' ? String(e.params.missingProperty) : null;
    const path = `/input${e.instancePath}${missing !== null ? `/${missing}` : ''}`;
    return `${path}: ${missing !== null ? `missing required field "${missing}"` : (e.message ?? e.keyword)}`;
  });
}
