import { describe, expect, it } from '@jest/globals';
import { compileDefinition, definitionIssues } from './index.ts';

const def = (child: Record<string, unknown>, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  id: 'onboard',
  version: 1,
  steps: {
    reserve: { worker: 'stock' },
    provision: {
      type: 'workflow',
      needs: ['reserve'],
      workflow: { id: 'provision-user', version: 2 },
      input: { email: '${{ input.email }}' },
      ...child,
    },
    ...extra,
  },
});

describe('a workflow step', () => {
  it('compiles to its child (cancel on close by default), with no worker, timeout or retries of its own', () => {
    expect(compileDefinition(def({})).steps.provision).toMatchObject({
      type: 'workflow',
      worker: null,
      timeoutMs: null,
      heartbeatTimeoutMs: null,
      governanceTimeoutMs: null,
      input: { email: '${{ input.email }}' },
      child: { definitionId: 'provision-user', version: 2, parentClosePolicy: 'cancel' },
    });
    const latest = compileDefinition(def({ workflow: { id: 'provision-user' }, parentClosePolicy: 'abandon' }));
    expect(latest.steps.provision?.child).toEqual({
      definitionId: 'provision-user',
      version: null,
      parentClosePolicy: 'abandon',
    });
  });

  it('leaves other steps as they were compiled before workflow steps existed', () => {
    const reserve = compileDefinition(def({})).steps.reserve;
    expect(reserve && 'child' in reserve).toBe(false);
  });

  it('needs workflow, naming the field', () => {
    expect(definitionIssues(def({ workflow: undefined }))).toEqual([
      {
        path: '/steps/provision/workflow',
        message: 'a workflow step needs workflow: the definition it starts, e.g. { id: provision-user, version: 2 }',
      },
    ]);
  });

  it("refuses what the child's definition says instead: worker, compensation, retries, timeouts, gates", () => {
    const issues = definitionIssues(
      def({ worker: 'w', compensate: { action: 'undo' }, retry: { maxAttempts: 2 }, timeout: '1h', assignees: ['x'] }),
    );
    expect(issues.map((i) => i.path).sort()).toEqual([
      '/steps/provision/assignees',
      '/steps/provision/compensate',
      '/steps/provision/retry',
      '/steps/provision/timeout',
      '/steps/provision/worker',
    ]);
    expect(issues[0]?.message).toMatch(/a workflow step starts a child run and takes no/);
  });

  it('refuses a hostile or malformed child reference, naming the path', () => {
    const bad = (workflow: unknown) => definitionIssues(def({ workflow })).map((i) => `${i.path}: ${i.message}`);
    expect(bad({ id: '../../etc/passwd' })).toEqual([
      expect.stringMatching(/^\/steps\/provision\/workflow\/id: .* is not a valid identifier/),
    ]);
    expect(bad({ id: 'x', version: 0 })).toEqual([expect.stringMatching(/^\/steps\/provision\/workflow\/version: /)]);
    expect(bad({ id: 'x', version: 1.5 })).toEqual([expect.stringMatching(/^\/steps\/provision\/workflow\/version: /)]);
    expect(bad({ id: 'x', tenant: 'other' })).toEqual(['/steps/provision/workflow/tenant: unknown field "tenant"']);
    expect(bad('provision-user')).toEqual([expect.stringMatching(/^\/steps\/provision\/workflow: /)]);
    expect(definitionIssues(def({ parentClosePolicy: 'terminate-all' }))).toEqual([
      { path: '/steps/provision/parentClosePolicy', message: 'must be one of "cancel", "abandon"' },
    ]);
  });

  it('checks its input mapping like a task step', () => {
    const issues = definitionIssues(def({ input: { email: '${{ inptu.email }}' } }));
    expect(issues.map((i) => i.path)).toEqual(['/steps/provision/input/email']);
  });

  it('refuses workflow and parentClosePolicy on any other step', () => {
    const issues = definitionIssues(
      def({}, { mail: { worker: 'mail', workflow: { id: 'x' }, parentClosePolicy: 'cancel' } }),
    );
    expect(issues).toEqual([
      { path: '/steps/mail/workflow', message: 'only a workflow step (type: workflow) takes workflow' },
      {
        path: '/steps/mail/parentClosePolicy',
        message: 'only a workflow step (type: workflow) takes parentClosePolicy',
      },
    ]);
  });
});
