import { describe, expect, it } from '@jest/globals';
import { compileDefinition, definitionIssues } from './index.ts';
import { MAX_ESCALATE_TO } from './schema.ts';

const def = (gate: Record<string, unknown>): Record<string, unknown> => ({
  id: 'wf',
  version: 1,
  steps: { gate: { type: 'approval', assignees: ['role:finance'], ...gate } },
});

describe('escalateTo and escalateAfter', () => {
  it('compile to the second level and its deadline, which defaults to the step timeout', () => {
    const both = compileDefinition(
      def({ timeout: '48h', escalateTo: ['role:cfo', 'user:ann', 'ops'], escalateAfter: '4h' }),
    );
    expect(both.steps.gate).toMatchObject({
      timeoutMs: 48 * 3_600_000,
      escalateTo: ['role:cfo', 'user:ann', 'ops'],
      escalateAfterMs: 4 * 3_600_000,
    });
    const defaulted = compileDefinition(def({ timeout: '1h', escalateTo: ['group:cfo'] }));
    expect(defaulted.steps.gate).toMatchObject({ escalateTo: ['group:cfo'], escalateAfterMs: 3_600_000 });
  });

  it('are absent from a step that declares none, so definitions compiled before them keep their fingerprint', () => {
    const plain = compileDefinition(def({ timeout: '1h' })).steps.gate;
    expect(plain && 'escalateTo' in plain).toBe(false);
    expect(plain && 'escalateAfterMs' in plain).toBe(false);
  });

  it('refuse escalateTo without a timeout, naming the field', () => {
    expect(definitionIssues(def({ escalateTo: ['role:cfo'] }))).toEqual([
      {
        path: '/steps/gate/escalateTo',
        message: 'escalateTo needs a timeout: the gate escalates when its timeout passes',
      },
    ]);
  });

  it('refuse escalateTo on a task step', () => {
    expect(
      definitionIssues({
        id: 'wf',
        version: 1,
        steps: { a: { worker: 'w', timeout: '1m', escalateTo: ['role:cfo'] } },
      }),
    ).toEqual([
      {
        path: '/steps/a/escalateTo',
        message: 'only an approval step can escalate to other assignees: a task step has no gate',
      },
    ]);
  });

  it('refuse an empty list, an empty name, a name that is not a string, and too many names', () => {
    const many = Array.from({ length: MAX_ESCALATE_TO + 1 }, (_, i) => `group:g${i}`);
    for (const [escalateTo, path] of [
      [[], '/steps/gate/escalateTo'],
      [['role:cfo', ''], '/steps/gate/escalateTo/1'],
      [[7], '/steps/gate/escalateTo/0'],
      ['role:cfo', '/steps/gate/escalateTo'],
      [many, '/steps/gate/escalateTo'],
    ] as const) {
      const issues = definitionIssues(def({ timeout: '1h', escalateTo }));
      expect({ escalateTo, paths: issues.map((i) => i.path) }).toEqual({ escalateTo, paths: [path] });
    }
    expect(definitionIssues(def({ timeout: '1h', escalateTo: many }))[0]?.message).toBe(
      `must NOT have more than ${MAX_ESCALATE_TO} items`,
    );
  });

  it('refuse escalateAfter without escalateTo, and a bad or zero escalateAfter', () => {
    expect(definitionIssues(def({ timeout: '1h', escalateAfter: '1h' }))).toEqual([
      {
        path: '/steps/gate/escalateAfter',
        message: 'escalateAfter needs escalateTo: it is how long the escalated gate waits',
      },
    ]);
    expect(definitionIssues(def({ timeout: '1h', escalateTo: ['x'], escalateAfter: '0s' }))).toEqual([
      { path: '/steps/gate/escalateAfter', message: 'escalateAfter must be longer than 0' },
    ]);
    expect(definitionIssues(def({ timeout: '1h', escalateTo: ['x'], escalateAfter: 'soon' }))).toEqual([
      { path: '/steps/gate/escalateAfter', message: 'bad duration "soon": write e.g. 500ms, 30s, 5m, 48h or 1h30m' },
    ]);
  });
});
