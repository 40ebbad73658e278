import { describe, expect, it } from '@jest/globals';
import { PolicyError } from './policy.error.ts';
import { createPolicyEngine } from './policy-engine.ts';
import type { PolicySource } from './governance.types.ts';

function loadError(sources: readonly PolicySource[]): PolicyError {
  try {
    createPolicyEngine(sources);
  } catch (error) {
    if (error instanceof PolicyError) return error;
    throw error;
  }
  throw new Error('expected a PolicyError');
}

describe('createPolicyEngine: loading', () => {
  it('rejects invalid Cedar with the source name and line', () => {
    // Given a valid source and one with a syntax error on line 3
    const sources = [
      { name: 'good.cedar', text: 'permit(principal, action, resource);' },
      {
        name: 'bad.cedar',
        text: '// é comment\npermit(principal, action, resource);\nforbid(principal, action, resource) when { context.x = };',
      },
    ];
    // When the engine is created
    const error = loadError(sources);
    // Then a PolicyError names the broken source and line
    expect(error.code).toBe('POLICY.INVALID');
    expect(error.errors).toHaveLength(1);
    expect(error.errors[0]).toMatchObject({ source: 'bad.cedar', line: 3 });
    expect(error.message).toContain('bad.cedar:3');
  });

  it('lists every error across sources', () => {
    // Given two broken sources, one with two errors
    const sources = [
      { name: 'a.cedar', text: 'permit(principal, action, resource)' },
      {
        name: 'b.cedar',
        text: 'permit(principal, action, resource) when { 1 = };\nforbid(principal, action, resource) when { 1 ==== 1 };',
      },
    ];
    // When the engine is created
    const error = loadError(sources);
    // Then each error is reported with its source
    expect(error.errors.map((e) => [e.source, e.line])).toEqual([
      ['a.cedar', 1],
      ['b.cedar', 1],
      ['b.cedar', 2],
    ]);
  });

  it('rejects duplicate ids across sources', () => {
    // Given the same @id in two files
    const sources = [
      { name: 'a.cedar', text: '@id("same") permit(principal, action, resource);' },
      { name: 'b.cedar', text: '\n@id("same") forbid(principal, action, resource);' },
    ];
    // When the engine is created
    const error = loadError(sources);
    // Then the duplicate is reported where it appears, pointing at the first
    expect(error.errors).toEqual([
      { source: 'b.cedar', line: 2, message: 'duplicate policy id "same" (first defined in a.cedar:1)' },
    ]);
  });

  it('rejects an @outcome other than require_approval, and @outcome on a permit', () => {
    // Given a forbid with an unknown outcome and a permit with an outcome
    const text =
      '@id("f") @outcome("deny_softly") forbid(principal, action, resource);\n@id("p") @outcome("require_approval") permit(principal, action, resource);';
    // When the engine is created
    const error = loadError([{ name: 'o.cedar', text }]);
    // Then both are reported
    expect(error.errors).toHaveLength(2);
    expect(error.errors[0]).toMatchObject({ source: 'o.cedar', line: 1 });
    expect(error.errors[0]?.message).toContain('deny_softly');
    expect(error.errors[1]).toMatchObject({ source: 'o.cedar', line: 2 });
    expect(error.errors[1]?.message).toContain('only applies to forbid');
  });

  it('rejects policy templates', () => {
    // Given a template with a principal slot
    const error = loadError([{ name: 't.cedar', text: 'permit(principal == ?principal, action, resource);' }]);
    // Then it is reported as unsupported
    expect(error.errors[0]?.message).toContain('templates');
  });

  it('gives unnamed policies <source>#<index> ids in source order', () => {
    // Given twelve unnamed policies (past the point where Cedar's own ids sort out of order)
    const text = Array.from(
      { length: 12 },
      (_, i) => `permit(principal, action, resource) when { context.hourUtc == ${i} };`,
    ).join('\n');
    // When the engine is created
    const engine = createPolicyEngine([{ name: 'many.cedar', text }]);
    // Then ids follow the source order
    expect(engine.policyIds).toEqual(Array.from({ length: 12 }, (_, i) => `many.cedar#${i}`));
    // And the id decided for 11:00 is the twelfth policy
    expect(
      engine.evaluate({
        runId: 'r',
        definitionId: 'd',
        definitionVersion: 1,
        stepId: 's',
        worker: 'w',
        input: {},
        runInput: {},
        now: Date.UTC(2025, 0, 8, 11),
      }).policyId,
    ).toBe('many.cedar#11');
  });

  it('denies by default when sources hold no policies', () => {
    // Given a source with only comments: an empty policy file is more likely a mistake than an intent
    const engine = createPolicyEngine([{ name: 'empty.cedar', text: '// nothing yet\n' }]);
    // When a step is evaluated
    // Then Cedar's default deny applies (only "no sources" means allow)
    expect(
      engine.evaluate({
        runId: 'r',
        definitionId: 'd',
        definitionVersion: 1,
        stepId: 's',
        worker: 'w',
        input: {},
        runInput: {},
        now: 0,
      }).outcome,
    ).toBe('deny');
  });
});
