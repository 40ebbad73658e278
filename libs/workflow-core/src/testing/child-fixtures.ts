/** The parent of the workflow-step specs: a reservation, a child run that provisions a user, then a notification. */
import { childRunIdOf } from '../child-runs.ts';
import { play, RUN_ID, startRun, stepCompleted, T0, workflow } from './decider-spec.ts';

export const at = (ms: number) => ({ now: T0 + ms });

export const parentDef = (child: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) =>
  workflow(
    {
      reserve: { worker: 'stock', compensate: { action: 'release' } },
      provision: {
        type: 'workflow',
        needs: ['reserve'],
        workflow: { id: 'provision-user', version: 2 },
        input: { email: '${{ input.email }}', sku: '${{ steps.reserve.output.sku }}' },
        ...child,
      },
      notify: { worker: 'mail', needs: ['provision'], input: { account: '${{ steps.provision.output.create }}' } },
    },
    { onFailure: 'compensate', ...extra },
  );

export const input = { email: 'a@b.c' };

/** The child run the parent's first attempt of `provision` starts. */
export const CHILD = childRunIdOf(RUN_ID, 'provision', 1);

/** The parent with `reserve` done, waiting for its child. */
export const waiting = (child: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) =>
  play([], startRun(parentDef(child, extra), input), stepCompleted('reserve', { ...at(10), output: { sku: 'S-1' } }));
