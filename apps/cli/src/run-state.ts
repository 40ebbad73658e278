import type { RunView, StepView } from './api.types.ts';

/** Where `run --wait` stands after a poll. */
export type WaitState = 'finished' | 'needs_operator' | 'waiting_for_human' | 'in_progress';

const FINISHED: ReadonlySet<string> = new Set(['completed', 'failed', 'compensated', 'cancelled']);
const DONE_STEP: ReadonlySet<string> = new Set(['completed', 'failed', 'skipped', 'cancelled']);
const MOVING_STEP: ReadonlySet<string> = new Set(['running', 'retry_scheduled', 'waiting_governance']);

export function waitState(run: RunView): WaitState {
  if (FINISHED.has(run.status)) return 'finished';
  if (run.status === 'needs_operator') return 'needs_operator';
  if (run.status === 'running' && isIdleOnApproval(run)) return 'waiting_for_human';
  return 'in_progress';
}

/**
 * Nothing will happen until someone approves: a step awaits approval, none is moving, and no pending step
 * is ready to be dispatched (which would mean the engine is about to act).
 */
function isIdleOnApproval(run: RunView): boolean {
  const byId = new Map(run.steps.map((s) => [s.id, s]));
  const ready = (s: StepView) =>
    s.status === 'pending' && s.needs.every((n) => DONE_STEP.has(byId.get(n)?.status ?? 'completed'));
  return (
    run.steps.some((s) => s.status === 'waiting_approval') &&
    !run.steps.some((s) => MOVING_STEP.has(s.status) || ready(s))
  );
}

export interface Hint {
  /** The API action it performs, to leave out the server's suggestion of the same. */
  readonly action: string;
  readonly command: string;
  readonly why: string;
}

/** The CLI commands that would move a stuck run on, most specific first. */
export function operatorHints(run: RunView): Hint[] {
  const hints: Hint[] = [];
  const id = run.id;
  for (const step of run.steps.filter((s) => s.status === 'waiting_approval')) {
    hints.push({
      action: 'approve',
      command: `orchestron approve ${id} --step ${step.id} --reason "…"`,
      why: 'let it proceed',
    });
    hints.push({
      action: 'reject',
      command: `orchestron reject ${id} --step ${step.id} --reason "…"`,
      why: 'refuse it',
    });
  }
  if (run.status === 'needs_operator' && run.attention?.code === 'BUDGET.EXCEEDED') {
    hints.push({
      action: 'raise-budget',
      command: `orchestron raise-budget ${id} --tokens <n> --reason "…"`,
      why: 'let it spend more and go on',
    });
    hints.push({ action: 'cancel', command: `orchestron cancel ${id} --reason "…"`, why: 'stop here' });
    return hints;
  }
  if (run.status === 'needs_operator') {
    const stepId = run.attention?.stepId ?? null;
    const step = stepId === null ? undefined : run.steps.find((s) => s.id === stepId);
    if (step !== undefined && step.status !== 'waiting_approval') {
      hints.push({
        action: 'retry',
        command: `orchestron retry ${id} --step ${step.id}`,
        why: 'try the step again (optionally with --input)',
      });
      hints.push({
        action: 'skip',
        command: `orchestron skip ${id} --step ${step.id} --output '{}'`,
        why: 'carry on as if it produced this output',
      });
    }
    hints.push({
      action: 'compensate',
      command: `orchestron compensate ${id}`,
      why: 'undo the completed side effects',
    });
    hints.push({ action: 'cancel', command: `orchestron cancel ${id} --reason "…"`, why: 'stop here' });
  }
  if (run.status === 'paused') hints.push({ action: 'resume', command: `orchestron resume ${id}`, why: 'carry on' });
  return hints;
}

/** Hints as aligned lines: command, then why. */
export function hintLines(hints: readonly Hint[]): string[] {
  const width = Math.max(0, ...hints.map((h) => h.command.length));
  return hints.map((h) => `  ${h.command.padEnd(width)}  # ${h.why}`);
}
