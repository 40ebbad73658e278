import { table } from './format.ts';
import { paint } from './output.ts';
import { hintLines, operatorHints } from './run-state.ts';
import type { AgentContract, RunStatus, RunView, StepView } from './api.types.ts';
import { budgetText, usageText } from './usage.format.ts';

/** The human view of a run shared by `status` and the operator actions: header, step table, what to do next. */
export function runViewLines(
  run: RunView,
  contract: AgentContract | null,
  colour: boolean,
  view: { readonly past?: boolean } = {},
): string[] {
  const p = paint(colour);
  const name = run.definition.name ? ` "${run.definition.name}"` : '';
  const lines = [
    `Run ${p.bold(run.id)}  ${run.definition.id} v${run.definition.version}${name}  ${colourStatus(run.status, colour)}`,
    p.dim(`started by ${run.startedBy} at ${run.createdAt}, updated ${run.updatedAt}, ${run.version} events`),
    ...forkLine(run, p.dim),
    ...parentLine(run),
    '',
    ...stepTable(run.steps),
    ...usageLines(run),
  ];
  lines.push(...waitLines(run.steps), ...childLines(run.steps));
  if (run.attention)
    lines.push(
      '',
      `Attention: ${run.attention.code}: ${run.attention.message}${run.attention.stepId ? ` (step ${run.attention.stepId})` : ''}`,
    );
  if (run.failure)
    lines.push('', `Failure: ${run.failure.stepId ?? 'run'}: ${run.failure.error.code} ${run.failure.error.message}`);
  // A past state is for reading: what was possible then is no advice now.
  if (view.past === true) return lines;
  const hints = operatorHints(run);
  if (hints.length > 0) lines.push('', 'Next:', ...hintLines(hints));
  // Reads (get_run, get_history) are always possible and the hints above already spell out their actions.
  const covered = new Set(hints.map((h) => h.action));
  const suggested = (contract?.next_actions ?? []).filter((a) => a.method !== 'GET' && !covered.has(a.action));
  if (suggested.length > 0) {
    lines.push(
      '',
      p.dim('Also possible:'),
      ...suggested.map((a) => p.dim(`  ${a.method} ${a.endpoint}  # ${a.action}: ${a.description}`)),
    );
  }
  return lines;
}

/** The events the run's steps wait for, and how to send one. */
function waitLines(steps: readonly StepView[]): string[] {
  const waits = steps.flatMap((s) => (s.status === 'waiting_event' && s.waitsFor ? [{ id: s.id, ...s.waitsFor }] : []));
  if (waits.length === 0) return [];
  return [
    '',
    ...waits.map(
      (w) =>
        `Waiting: ${w.id} waits for event ${w.event} with key ${JSON.stringify(w.key)}${w.timeoutAt ? ` until ${w.timeoutAt}` : ''} (orchestron send-event ${w.event} --key ${JSON.stringify(w.key)} --id <id> --payload <json>)`,
    ),
  ];
}

/** A child run names its parent run and step (absent from servers before child workflows). */
function parentLine(run: RunView): string[] {
  const parent = run.parent ?? null;
  if (parent === null) return [];
  return [
    `child of run ${parent.runId} (step ${parent.stepId}, depth ${parent.depth}): orchestron status ${parent.runId}`,
  ];
}

/** The child runs the run's workflow steps started, and how to look at each. */
function childLines(steps: readonly StepView[]): string[] {
  const children = steps.flatMap((s) => (s.childRunId ? [{ id: s.id, runId: s.childRunId, status: s.status }] : []));
  if (children.length === 0) return [];
  return [
    '',
    ...children.map((c) => `Child: ${c.id} started run ${c.runId} (${c.status}): orchestron status ${c.runId}`),
  ];
}

/** Absent from servers before forks existed. */
function forkLine(run: RunView, dim: (s: string) => string): string[] {
  const from = run.forkedFrom;
  if (!from) return [];
  return [dim(`forked from run ${from.runId} at revision ${from.revision}${from.reason ? `: ${from.reason}` : ''}`)];
}

/** The run's total usage against its budget, when it has either (absent from servers before budgets existed). */
function usageLines(run: RunView): string[] {
  if (run.usage === undefined && run.budget === undefined) return [];
  return ['', `Usage: ${usageText(run.usage) || 'none yet'}; budget: ${budgetText(run.budget)}`];
}

function stepTable(steps: readonly StepView[]): string[] {
  const withCompensation = steps.some((s) => s.compensation !== null);
  const withUsage = steps.some((s) => s.usage !== undefined);
  const headers = [
    'STEP',
    'STATUS',
    'ATTEMPT',
    'WORKER',
    ...(withCompensation ? ['COMPENSATION'] : []),
    ...(withUsage ? ['USAGE'] : []),
    'ERROR',
  ];
  const rows = steps.map((s) => [
    s.id,
    s.status === 'skipped' && s.skipKind
      ? `skipped (${s.skipKind})`
      : s.held
        ? `${s.status} (held: ${s.held.reason}${s.held.locks ? ` ${s.held.locks.join(', ')}` : ''})`
        : s.escalatedTo
          ? `${s.status} (escalated to ${s.escalatedTo.join(', ')})`
          : s.waitsFor
            ? `${s.status} (${s.waitsFor.event} ${JSON.stringify(s.waitsFor.key)})`
            : s.status,
    String(s.attempt),
    s.worker ?? typeColumn(s),
    ...(withCompensation
      ? [
          s.compensation
            ? `${s.compensation.status}${s.compensation.error ? `: ${s.compensation.error.code}` : ''}`
            : '-',
        ]
      : []),
    ...(withUsage ? [s.usage !== undefined ? usageText(s.usage) : '-'] : []),
    s.error ? `${s.error.code}: ${s.error.message}` : '',
  ]);
  return table(headers, rows);
}

function typeColumn(s: StepView): string {
  if (s.type === 'workflow' && s.workflow)
    return `(workflow ${s.workflow.id}${s.workflow.version !== null ? ` v${s.workflow.version}` : ''})`;
  return s.type === 'approval' ? '(approval)' : s.type === 'event' ? '(event)' : '-';
}

export function colourStatus(status: RunStatus, colour: boolean): string {
  const p = paint(colour);
  switch (status) {
    case 'completed':
      return p.green(status);
    case 'failed':
    case 'cancelled':
      return p.red(status);
    case 'compensated':
    case 'compensating':
      return p.magenta(status);
    case 'needs_operator':
    case 'paused':
      return p.yellow(status);
    case 'running':
      return p.cyan(status);
    default:
      return String(status satisfies never);
  }
}
