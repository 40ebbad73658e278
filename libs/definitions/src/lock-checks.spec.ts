/** Lock names a definition may not declare: refused at registration, at the name's path, before any run. */
import { describe, expect, it } from '@jest/globals';
import { definitionIssues, MAX_LOCK_NAME } from './index.ts';
import type { DefinitionIssue } from './index.ts';

const NAME = '/steps/a/locks/0/name';
const issuesOf = (name: unknown, step: Record<string, unknown> = {}): DefinitionIssue[] =>
  definitionIssues({
    id: 'wf',
    version: 1,
    steps: { a: { worker: 'w', locks: [{ name }], ...step }, b: { worker: 'w' } },
  });
const at = (issues: readonly DefinitionIssue[]) => issues.filter((i) => i.path === NAME).map((i) => i.message);

describe('lock names in a definition', () => {
  it(`takes a template of ${MAX_LOCK_NAME} characters and refuses one longer`, () => {
    expect(issuesOf('x'.repeat(MAX_LOCK_NAME))).toEqual([]);
    expect(at(issuesOf('x'.repeat(MAX_LOCK_NAME + 1)))).toEqual([
      `must NOT have more than ${MAX_LOCK_NAME} characters`,
    ]);
  });

  it('refuses an empty name and one that is not a string', () => {
    expect(at(issuesOf(''))).toEqual(['must NOT have fewer than 1 characters']);
    expect(at(issuesOf(42))).toEqual(['must be string']);
  });

  it('refuses an expression that does not type-check, quoting it cut short', () => {
    const [message] = at(issuesOf(`\${{ ${'x'.repeat(190)} }}`));
    expect(message).toMatch(/^expression "x{80}…" \(190 characters\) reads unknown identifier/);
  });

  it('refuses a name that reads a step not settled before the step runs (the names would change between attempts)', () => {
    expect(at(issuesOf('account-${{ steps.b.output.id }}'))).toEqual([
      'expression reads step "b", which is not upstream of "a": add it to needs',
    ]);
    expect(issuesOf('account-${{ steps.b.output.id }}', { needs: ['b'] })).toEqual([]);
  });

  it('leaves an input-sized expression to the budget at run time: registration cannot know the input', () => {
    expect(issuesOf('${{ input.items.map(x, x * 2).size() }}')).toEqual([]);
  });
});
