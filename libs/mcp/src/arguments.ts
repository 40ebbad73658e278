import { Ajv } from 'ajv';
import type { ErrorObject, ValidateFunction } from 'ajv';
import type { ToolSpec } from './tools.ts';

/** A tool's arguments checked against its input schema; the message names the field and the rule it broke. */
export type Checked =
  | { readonly ok: true; readonly args: Record<string, unknown> }
  | { readonly ok: false; readonly field: string; readonly message: string };

const ajv = new Ajv({ allErrors: false, strict: false });
const validators = new WeakMap<ToolSpec, ValidateFunction>();

export function checkArguments(tool: ToolSpec, given: unknown): Checked {
  const args = given ?? {};
  let validate = validators.get(tool);
  if (validate === undefined) {
    validate = ajv.compile(tool.inputSchema);
    validators.set(tool, validate);
  }
  if (validate(args)) return { ok: true, args: args as Record<string, unknown> };
  const [error] = validate.errors ?? [];
  return { ok: false, ...describe(tool.name, error) };
}

function describe(tool: string, error: ErrorObject | undefined): { field: string; message: string } {
  if (error === undefined) return { field: 'arguments', message: `${tool}: the arguments are invalid` };
  const params = error.params as Record<string, unknown>;
  const extra = typeof params['additionalProperty'] === 'string' ? params['additionalProperty'] : undefined;
  const missing = typeof params['missingProperty'] === 'string' ? params['missingProperty'] : undefined;
  const path = error.instancePath.replace(/^\//, '').replaceAll('/', '.');
  const field = extra ?? missing ?? (path === '' ? 'arguments' : path);
  if (extra !== undefined) return { field, message: `${tool}: "${extra}" is not an argument of this tool` };
  if (missing !== undefined) return { field, message: `${tool}: "${missing}" is required` };
  return { field, message: `${tool}: "${field}" ${error.message ?? 'is invalid'}` };
}
