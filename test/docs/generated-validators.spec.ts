import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { definitionIssues, definitionSchema, precompiledValidator, schemaValidator } from '@orchestron/definitions';
import { parseStepEventMessage, WireFormatError, wireParser } from '@orchestron/bus';
import { Ajv } from 'ajv';
import { GENERATED_VALIDATORS, SHIPPED_SCHEMAS, validatorsSource } from '../../tools/validators-source.ts';

describe('the validators compiled ahead of time (ADR 47)', () => {
  it('are current: the file equals what the schemas compile to (run `npm run validators:write` after changing one)', () => {
    expect(readFileSync(GENERATED_VALIDATORS, 'utf8') === validatorsSource()).toBe(true);
  });

  it('serve the shipped schemas from the file, not from a compile at start-up', () => {
    for (const schema of SHIPPED_SCHEMAS) {
      expect(precompiledValidator(schema)).toBeDefined();
      expect(schemaValidator(schema)).toBe(precompiledValidator(schema));
    }
    expect(precompiledValidator({ type: 'object', required: ['made-up'] })).toBeUndefined();
  });

  it('answer as a validator compiled now does, errors included', () => {
    const fresh = new Ajv({ allErrors: true, strict: false, verbose: true }).compile(definitionSchema);
    const ready = schemaValidator(definitionSchema);
    const bad = { id: 'Bad Id', version: 0, steps: { a: { worker: 7, needs: 'b' } }, extra: true };
    expect(ready(bad)).toBe(false);
    expect(fresh(bad)).toBe(false);
    expect(ready.errors).toEqual(fresh.errors);
    expect(definitionIssues(bad).map((issue) => issue.path)).toEqual(
      expect.arrayContaining(['/id', '/version', '/steps/a/worker']),
    );
  });

  it('compile a schema the file does not hold, with the same options', () => {
    const validate = schemaValidator({ type: 'object', required: ['made-up'] });
    expect(validate({})).toBe(false);
    expect(validate({ 'made-up': 1 })).toBe(true);
    const parse = wireParser<unknown>({ type: 'object', required: ['x'] }, 'probe');
    expect(() => parse({})).toThrow(WireFormatError);
    expect(() => parse({})).toThrow("not a valid probe: / must have required property 'x'");
  });

  it('still name every bad field of a wire message', () => {
    expect(() => parseStepEventMessage({ type: 'step.completed', runId: 7 })).toThrow(/\/runId must be string/);
  });
});
