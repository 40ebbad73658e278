import { paint } from './output.ts';
import type { Paint } from './output.ts';
import type { RunView, StepView, WireError } from './api.types.ts';

export interface RenderOptions {
  /** ANSI colour on the status symbol; off by default so the lines are plain text. */
  readonly colour?: boolean;
}

/**
 * The progress lines for going from `previous` (null before the first poll) to `next`: one per step whose
 * status, attempt, governance decision or compensation changed, plus pause/resume/compensation of the run.
 * Pure, so `run --wait` can be tested without a server.
 */
export function renderProgress(previous: RunView | null, next: RunView, options: RenderOptions = {}): string[] {
  const p = paint(options.colour ?? false);
  const lines: string[] = [];
  if (previous !== null && previous.status !== next.status) {
    const runLine = runTransitionLine(previous, next, p);
    if (runLine !== null) lines.push(runLine);
  }
  const before = new Map((previous?.steps ?? []).map((s) => [s.id, s]));
  for (const step of next.steps) {
    const old = before.get(step.id) ?? null;
    if (step.governance !== null && !sameGovernance(old?.governance ?? null, step.governance))
      lines.push(governanceLine(step, p));
    const changed =
      old === null ? step.status !== 'pending' : old.status !== step.status || old.attempt !== step.attempt;
    if (changed) lines.push(stepLine(next.id, step, p));
    const wasHeld = old?.held ?? null;
    if (step.held && (wasHeld === null || wasHeld.reason !== step.held.reason))
      lines.push(`  ${p.yellow('⏳')} ${step.id}  held: ${heldText(step.held)}`);
  }
  // Compensation follows the failure that caused it and runs newest step first, so within one poll its
  // lines come after every step line, in reverse order.
  for (const step of [...next.steps].reverse()) {
    const old = before.get(step.id)?.compensation ?? null;
    if (step.compensation !== null && !sameCompensation(old, step.compensation)) lines.push(compensationLine(step, p));
  }
  return lines;
}

/** The last line of `run --wait`. */
export function summaryLine(run: RunView, options: RenderOptions = {}): string {
  const p = paint(options.colour ?? false);
  const took = elapsed(run);
  switch (run.status) {
    case 'completed':
      return `${p.green('✓')} run ${run.id} completed${took} — ${stepCounts(run)}`;
    case 'failed':
      return `${p.red('✗')} run ${run.id} failed${took}${failureText(run)}`;
    case 'compensated':
      return `${p.magenta('↩')} run ${run.id} compensated${took}${failureText(run)}`;
    case 'cancelled':
      return `${p.red('⊘')} run ${run.id} cancelled${took}`;
    case 'needs_operator':
      return `${p.yellow('!')} run ${run.id} needs an operator${run.attention ? `: ${run.attention.code}: ${run.attention.message}` : ''}`;
    case 'running':
    case 'paused':
    case 'compensating':
      return `run ${run.id} is ${run.status} — ${stepCounts(run)}`;
    default:
      return `run ${run.id} is ${unknownStatus(run.status)}`;
  }
}

/** Why flow control (or a lock) holds an attempt, in words. */
export function heldText(held: NonNullable<StepView['held']>): string {
  switch (held.reason) {
    case 'breaker_open':
      return `worker ${held.worker}'s circuit breaker is open; it waits for the breaker to close`;
    case 'concurrency_limit':
      return `worker ${held.worker} is at its concurrency limit; it waits for a free slot`;
    case 'rate_limit':
      return `worker ${held.worker} is at its rate limit; it waits for its turn`;
    case 'lock': {
      const names = (held.locks ?? []).map((n) => JSON.stringify(n)).join(', ');
      return `waits for lock${(held.locks?.length ?? 0) === 1 ? '' : 's'} ${names} (another step holds one; orchestron locks shows who)`;
    }
    default:
      // A reason a newer server knows and this CLI does not: say it as it came.
      return `held by flow control on worker ${held.worker}: ${held.reason.replace(/_/g, ' ')}`;
  }
}

function stepLine(runId: string, step: StepView, p: Paint): string {
  const id = step.id;
  switch (step.status) {
    case 'pending':
      return `  ${p.dim('·')} ${id}  pending`;
    case 'waiting_governance':
      return `  ${p.yellow('⧗')} ${id}  waiting for a governance decision`;
    case 'waiting_approval':
      return `  ${p.yellow('⏸')} ${id}  waiting for approval — orchestron approve ${runId} --step ${id}`;
    case 'waiting_event':
      return `  ${p.yellow('⧗')} ${id}  waiting for event${waitText(step)} — orchestron send-event`;
    case 'waiting_child':
      return step.childRunId
        ? `  ${p.cyan('▶')} ${id}  waiting for child run ${step.childRunId} — orchestron status ${step.childRunId}`
        : `  ${p.cyan('▶')} ${id}  waiting for its child run`;
    case 'running':
      return `  ${p.cyan('▶')} ${id}  running${attemptText(step.attempt)}`;
    case 'retry_scheduled':
      return `  ${p.yellow('↻')} ${id}  retry scheduled after attempt ${step.attempt}${errorText(step.error)}`;
    case 'completed':
      return `  ${p.green('✓')} ${id}  ${step.type === 'approval' ? 'approved' : `completed${attemptText(step.attempt)}`}`;
    case 'failed':
      return `  ${p.red('✗')} ${id}  failed${step.attempt > 0 ? ` after attempt ${step.attempt}` : ''}${errorText(step.error)}`;
    case 'skipped':
      return `  ${p.dim('↷')} ${id}  skipped${step.skipKind ? ` (${step.skipKind})` : ''}`;
    case 'cancelled':
      return `  ${p.dim('⊘')} ${id}  cancelled`;
    default:
      return `  ? ${id}  ${unknownStatus(step.status)}${attemptText(step.attempt)}`;
  }
}

function waitText(step: StepView): string {
  const wait = step.waitsFor;
  return wait
    ? ` ${wait.event} (key ${JSON.stringify(wait.key)})${wait.timeoutAt ? ` until ${wait.timeoutAt}` : ''}`
    : '';
}

function governanceLine(step: StepView, p: Paint): string {
  const g = step.governance;
  if (g === null) return '';
  const mark = g.outcome === 'deny' ? p.red('⚖') : g.outcome === 'allow' ? p.green('⚖') : p.yellow('⚖');
  return `  ${mark} ${step.id}  governance ${g.outcome}${g.policyId ? ` by policy ${g.policyId}` : ''}: ${g.reason}`;
}

function compensationLine(step: StepView, p: Paint): string {
  const c = step.compensation;
  if (c === null) return '';
  const mark = p.magenta('↩');
  switch (c.status) {
    case 'running':
      return `  ${mark} ${step.id}  compensation running${attemptText(c.attempt)}`;
    case 'retry_scheduled':
      return `  ${mark} ${step.id}  compensation retry scheduled after attempt ${c.attempt}${errorText(c.error)}`;
    case 'completed':
      return `  ${mark} ${step.id}  compensation completed`;
    case 'failed':
      return `  ${mark} ${step.id}  compensation failed${errorText(c.error)}`;
    case 'skipped':
      return `  ${mark} ${step.id}  compensation skipped`;
    case 'reset':
      return `  ${mark} ${step.id}  re-driven: its compensation is done again only if it is undone again`;
    default:
      return `  ${mark} ${step.id}  compensation ${unknownStatus(c.status)}`;
  }
}

function runTransitionLine(previous: RunView, next: RunView, p: Paint): string | null {
  switch (next.status) {
    case 'paused':
      return `${p.yellow('⏸')} run paused`;
    case 'running':
      return previous.status === 'paused' || previous.status === 'needs_operator' ? `${p.cyan('▶')} run resumed` : null;
    case 'compensating':
      return `${p.magenta('↩')} run compensating${next.failure ? ` after ${next.failure.stepId ?? 'the run'} failed` : ''}`;
    // Terminal statuses and operator takeover get the summary line instead.
    case 'needs_operator':
    case 'completed':
    case 'failed':
    case 'compensated':
    case 'cancelled':
      return null;
    default:
      return `run ${unknownStatus(next.status)}`;
  }
}

function attemptText(attempt: number): string {
  return attempt > 0 ? ` (attempt ${attempt})` : '';
}

function errorText(error: WireError | null): string {
  return error ? `: ${error.code} ${error.message}` : '';
}

function failureText(run: RunView): string {
  if (!run.failure) return '';
  return ` — ${run.failure.stepId ?? 'run'}: ${run.failure.error.code} ${run.failure.error.message}`;
}

function stepCounts(run: RunView): string {
  const counts = new Map<string, number>();
  for (const s of run.steps) counts.set(s.status, (counts.get(s.status) ?? 0) + 1);
  const parts = [...counts].map(([status, n]) => `${n} ${status.replace(/_/g, ' ')}`);
  return `${run.steps.length} step${run.steps.length === 1 ? '' : 's'}${parts.length > 0 ? `: ${parts.join(', ')}` : ''}`;
}

function elapsed(run: RunView): string {
  const ms = Date.parse(run.updatedAt) - Date.parse(run.createdAt);
  if (!Number.isFinite(ms) || ms < 0) return '';
  return ms < 1000 ? ` in ${ms}ms` : ` in ${(ms / 1000).toFixed(1)}s`;
}

function sameGovernance(a: StepView['governance'], b: StepView['governance']): boolean {
  return a !== null && b !== null && a.outcome === b.outcome && a.policyId === b.policyId && a.reason === b.reason;
}

function sameCompensation(a: StepView['compensation'], b: StepView['compensation']): boolean {
  return a !== null && b !== null && a.status === b.status && a.attempt === b.attempt;
}

/** Exhaustive at compile time; a newer server's status still prints rather than crashing the CLI. */
function unknownStatus(status: never): string {
  return String(status).replace(/_/g, ' ');
}
